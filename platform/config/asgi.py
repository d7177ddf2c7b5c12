"""ASGI entry point: `uvicorn --app-dir platform config.asgi:application`.

ASGI servers never run Django's system checks, so the API's guard checks run here, once, when the
application is loaded: a view that could leak stops the server from starting (ADR 0002). Then the
start-up heap is frozen out of the garbage collector's walks (config.heap).
"""

import os

from django.core.asgi import get_asgi_application

from config import paths  # noqa: F401  (puts platform/ and the project root on sys.path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

application = get_asgi_application()

from api.checks import check_at_start_up  # noqa: E402  (needs platform/ on sys.path and the apps loaded)

check_at_start_up()

from config.heap import freeze_start_up_heap  # noqa: E402

freeze_start_up_heap()  # last: what start-up loaded stays out of every garbage collection
