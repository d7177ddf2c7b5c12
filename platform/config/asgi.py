"""ASGI entry point: `uvicorn --app-dir platform config.asgi:application`."""

import os

from django.core.asgi import get_asgi_application

from config import paths  # noqa: F401  (puts platform/ and the project root on sys.path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()
