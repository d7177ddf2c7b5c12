"""App configuration for the shared API machinery."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API machinery"
