"""System checks of the API's guards (ADR 0002): the app does not start with a view that could leak.

`check_api_guards` walks the URL resolver and reports:

- api.E001: a view under /api/ (or a DRF view anywhere) that is not built on `api.views.GuardDeclared`,
  nor a function view marked with `api.views.guard_declared` (the OpenAPI views of drf_spectacular
  excepted: they serve the schema only);
- api.E002: a routed view that breaks a rule of api.views, e.g. patched after its class was defined
  (which the class-definition checks cannot see), or a Scoped view without a queryset;
- api.E003: a view over a purpose-bound model (`is_purpose_bound`) whose guard is not `purpose`.

ApiConfig.ready() registers it (tag `api_guards`), so `manage.py check` and `runserver` run it; and
config.wsgi and config.asgi run it at start-up through `check_at_start_up()`, because application
servers (gunicorn, uvicorn) never run system checks.
"""

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver

TAG = "api_guards"
API_ROUTE_PREFIX = "api/"
# Views that are not part of the platform's own API (the OpenAPI document and its viewers).
THIRD_PARTY = ("drf_spectacular.",)


def is_purpose_bound(model) -> bool:
    """A data model (records, rollups, every indicator table): served only under the purpose guard.

    Mark one with a class attribute `purpose_bound = True` on the model.
    """
    return bool(getattr(model, "purpose_bound", False))


def iter_callbacks(resolver=None, prefix: str = ""):
    """(route, callback) for every URL pattern; the route without regex anchors, e.g. "api/v1/me/"."""
    resolver = resolver if resolver is not None else get_resolver()
    for pattern in resolver.url_patterns:
        segment = str(pattern.pattern)
        route = prefix + (segment[1:] if segment.startswith("^") else segment)
        if isinstance(pattern, URLResolver):
            yield from iter_callbacks(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def view_class_of(callback):
    """The class of a class-based view (DRF sets `cls`, Django `view_class`), or None for a function."""
    return getattr(callback, "cls", None) or getattr(callback, "view_class", None)


def check_api_guards(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    from rest_framework.views import APIView

    from api import views

    messages: dict[tuple[str, str], checks.Error] = {}

    def report(code: str, message: str, obj, hint: str) -> None:
        messages.setdefault((code, message), checks.Error(message, hint=hint, obj=obj, id=code))

    for route, callback in iter_callbacks():
        cls = view_class_of(callback)
        target = cls if cls is not None else callback
        module = getattr(target, "__module__", None) or ""
        if module.startswith(THIRD_PARTY):
            continue
        on_api = route.startswith(API_ROUTE_PREFIX)
        name = f"{module}.{getattr(target, '__qualname__', repr(target))}"
        if cls is not None:
            # What as_view() was given (DRF: `initkwargs`, Django: `view_initkwargs`) counts as well.
            initkwargs = getattr(callback, "initkwargs", None) or getattr(callback, "view_initkwargs", None) or {}
            if issubclass(cls, views.GuardDeclared):
                problems = views.guard_problems(cls, routed=True)
                problems += views.initkwargs_problems(cls, initkwargs, f"/{route}: as_view()")
                for problem in problems:
                    report("api.E002", problem, name, "Follow the rules of api.views (ADR 0002).")
            elif on_api or issubclass(cls, APIView):
                report(
                    "api.E001",
                    f"/{route}: {name} does not declare how it is guarded.",
                    name,
                    "Derive the view from a Scoped*, Public* or Caller* base in api.views.",
                )
            for problem in views.purpose_problems(cls, initkwargs):
                report("api.E003", problem, name, "Serve data through the purpose guard (PurposeBoundMixin).")
            continue
        guard = getattr(callback, "guard", None)
        if guard is None:
            if on_api:
                report(
                    "api.E001",
                    f"/{route}: the function view {name} does not declare how it is guarded.",
                    name,
                    "Build it on a base in api.views, or mark it with @api.views.guard_declared(kind, reason).",
                )
        elif guard not in views.FUNCTION_GUARD_KINDS or not getattr(callback, "guard_reason", ""):
            report(
                "api.E002",
                f"/{route}: the function view {name} declares the guard {guard!r} without guard_declared().",
                name,
                f"Mark it with @api.views.guard_declared(kind, reason), kind in {sorted(views.FUNCTION_GUARD_KINDS)}.",
            )
    return list(messages.values())


def check_access_log_outside_requests(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """The access event is written in its own transaction; ATOMIC_REQUESTS would fold it into the
    request's, where a rollback of the request would take the event with it."""
    from django.conf import settings

    return [
        checks.Error(
            f"DATABASES[{alias!r}] sets ATOMIC_REQUESTS: access events must be written outside the request's "
            "transaction.",
            hint="Leave ATOMIC_REQUESTS off; services open their own transactions.",
            id="api.E004",
        )
        for alias, database in settings.DATABASES.items()
        if database.get("ATOMIC_REQUESTS")
    ]


def check_at_start_up() -> None:
    """Run the guard checks and refuse to start on any error (config.wsgi, config.asgi).

    The checks run once, when the application server imports the application; they cannot be
    silenced here (SILENCED_SYSTEM_CHECKS does not apply).
    """
    errors = [
        message for message in checks.run_checks(include_deployment_checks=False, tags=[TAG]) if message.is_serious()
    ]
    if errors:
        raise ImproperlyConfigured(
            "The API's guard checks failed, so the application does not start:\n"
            + "\n".join(str(error) for error in errors)
        )
