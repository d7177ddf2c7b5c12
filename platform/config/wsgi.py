"""WSGI entry point: `gunicorn --pythonpath platform config.wsgi`."""

import os

from django.core.wsgi import get_wsgi_application

from config import paths  # noqa: F401  (puts platform/ and the project root on sys.path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_wsgi_application()
