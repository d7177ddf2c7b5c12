"""Project configuration: settings from the environment, root URLs, WSGI and ASGI entry points."""
