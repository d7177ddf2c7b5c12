"""App configuration for purposes."""

from django.apps import AppConfig


class PurposesConfig(AppConfig):
    name = "purposes"
    verbose_name = "Purposes"
