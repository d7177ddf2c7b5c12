"""App configuration for the shared API machinery."""

from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "api"
    verbose_name = "API machinery"

    def ready(self):
        from django.core.checks import Tags, register

        from api.checks import TAG, check_access_log_outside_requests, check_api_guards
        from api.json_types import refuse_loose_types

        refuse_loose_types()

        # `check` and `runserver` run them; config.wsgi and config.asgi run them at start-up.
        register(check_api_guards, TAG, Tags.security, Tags.urls)
        register(check_access_log_outside_requests, TAG, Tags.database)
