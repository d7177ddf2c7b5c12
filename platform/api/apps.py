"""App configuration for the shared API machinery."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API machinery"

    def ready(self):
        from django.core.checks import Tags, register

        from api.checks import TAG, check_api_guards

        # `check` and `runserver` run it; config.wsgi and config.asgi run it at start-up.
        register(check_api_guards, TAG, Tags.security, Tags.urls)
