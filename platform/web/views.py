"""Views of the public pages."""

from django.shortcuts import render


def home(request):
    return render(request, "web/home.html")
