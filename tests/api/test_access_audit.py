"""Fail closed: every API view declares how access is decided, and scoping cannot be bypassed."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts.models import ApiKey, Organisation
from api.views import AccessDeclared, PublicAPIView, ScopedModelViewSet, ScopedReadOnlyViewSet
from tests.factories import OrganisationFactory, api_key_for

# Views that are not part of the platform's own API (the OpenAPI document and its viewers).
THIRD_PARTY = ("drf_spectacular.",)


def iter_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from iter_patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def api_view_classes():
    for route, callback in iter_patterns():
        cls = getattr(callback, "cls", None)
        if cls is not None and issubclass(cls, APIView) and not cls.__module__.startswith(THIRD_PARTY):
            yield route, cls


def test_the_resolver_has_api_views():
    assert len(list(api_view_classes())) >= 3


@pytest.mark.parametrize(("route", "cls"), list(api_view_classes()), ids=lambda v: str(v))
def test_every_api_view_declares_its_access(route, cls):
    assert issubclass(cls, AccessDeclared), f"{route}: {cls.__qualname__} is not built on api.views"
    assert cls.access in AccessDeclared.ACCESS_KINDS


@pytest.mark.django_db
@pytest.mark.parametrize(
    "route",
    [route for route, cls in api_view_classes() if cls.access != "public"],
    ids=str,
)
def test_every_non_public_view_refuses_anonymous_callers(route):
    url = "/" + re.sub(r"\(\?P<\w+>[^)]*\)", "x", route).replace("^", "").replace("$", "")
    response = APIClient().get(url)
    assert response.status_code in (401, 405), url
    if response.status_code == 401:
        assert response["Content-Type"] == "application/problem+json"


def test_a_viewset_overriding_get_queryset_refuses_to_be_defined():
    with pytest.raises(ImproperlyConfigured, match="overrides get_queryset"):

        class Leaky(ScopedModelViewSet):
            queryset = Organisation.objects.none()
            organisation_field = "pk"

            def get_queryset(self):
                return Organisation.objects.all()


def test_a_scoped_viewset_without_an_organisation_field_refuses_to_be_defined():
    with pytest.raises(ImproperlyConfigured, match="organisation_field"):

        class Unscoped(ScopedReadOnlyViewSet):
            queryset = Organisation.objects.none()


def test_a_view_that_does_not_say_how_it_is_guarded_refuses_to_be_defined():
    class Declared(PublicAPIView):
        pass

    with pytest.raises(ImproperlyConfigured, match="does not declare"):

        class Undeclared(AccessDeclared, APIView):
            pass


@pytest.mark.django_db
def test_safely_get_queryset_cannot_widen_the_scope():
    mine, theirs = OrganisationFactory(), OrganisationFactory()
    own_key, _ = api_key_for(mine)
    api_key_for(theirs)

    class Widening(ScopedReadOnlyViewSet):
        queryset = ApiKey.objects.none()
        organisation_field = "organisation"

        def safely_get_queryset(self, queryset):
            return ApiKey.objects.all()  # tries to escape the scope

    request = APIRequestFactory().get("/")
    request.auth = own_key
    request.user = None
    view = Widening()
    view.request = request
    assert list(view.get_queryset()) == [own_key]
