"""Base views. Every API view declares how it is guarded (`guard`), and fails closed.

The guard kinds (`GUARD_KINDS`), each given by a base in this module and by nothing else:

- `organisation`: `ScopedModelViewSet` / `ScopedReadOnlyViewSet` / `ScopedGenericViewSet`, rows of the
  caller's organisations only. The queryset is cut in `get_queryset`, and cut again after the filter
  backends in `filter_queryset`; subclasses refine them in `safely_get_queryset` and
  `safely_filter_queryset`, so no subclass can widen them. Another organisation's row answers 404.
  At run time every action but `create` must go through the scope before it answers 2xx (a detail
  action calls `get_object()`, a list action `get_queryset()`); one that did not answers 500 instead
  of its rows. An extra `detail=False` action that reads nothing scoped says why:
  `@action(..., scope_exempt="why")`.
- `public`: `PublicAPIView` / `PublicReadOnlyViewSet`, metadata that is public by design (no login).
- `caller`: `CallerAPIView`, answers about the caller itself (`me/`).
- `purpose`: data. A model marked `purpose_bound` (`api.checks.is_purpose_bound`: records, rollups,
  indicators) is served only by a view whose guard is `purpose` (`PurposeBoundMixin`, see below).

A class refuses to be defined, so the app does not start, when it declares no guard; when a class
outside this module (a mixin before a base included: the whole MRO is read) defines `guard`,
`get_queryset`, `filter_queryset`, `get_object` or the scope's own methods; when a Scoped view's
class-level queryset carries a filter (the scope would drop it); and when a view that is not
`purpose`-guarded names a purpose-bound model. Function views under /api/ declare themselves with
`guard_declared`. The system check in api.checks walks the URL resolver and applies these rules to
every routed view again; it runs in `manage.py check` and `runserver`, and when config.wsgi or
config.asgi start (tests/api/test_access_audit.py and test_side_entrances.py prove it).
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from django.db.models.manager import BaseManager
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from api import guard as purpose_guard
from api import replica
from api.caller import caller_of
from api.checks import is_purpose_bound
from api.permissions import HasOrganisationRole, IsAuthenticatedCaller, ReadsDataOrAnonymous, required_roles
from api.problems import database_unavailable

GUARD_KINDS = frozenset({"organisation", "public", "caller", "purpose"})
# What a function view may declare with `guard_declared`: `organisation` and `purpose` are enforced by
# the base classes below, which a function cannot carry.
FUNCTION_GUARD_KINDS = frozenset({"public", "caller"})

# What decides which rows a view reads. Only this module's classes (and Django's and DRF's, where this
# module does not define the name) may define them; the whole MRO is read, not `vars(cls)`.
GUARDED_NAMES = {
    "get_queryset": "refine safely_get_queryset() instead",
    "filter_queryset": "refine safely_filter_queryset() or add a filter backend instead",
    "get_object": "set lookup_field, or refine safely_get_queryset(), instead",
    "scope": "the scope is decided by organisation_field and shared_read",
    "organisation_paths": "the scope is decided by organisation_field",
    "organisation_ids_of": "the scope is decided by organisation_field",
    "finalize_response": "it checks that every action went through the scope",
    "__init_subclass__": "it would skip the checks of api.views",
    "guard": "derive the view from a Scoped*, Public* or Caller* base in api.views instead",
    "GUARD_KINDS": "the guard kinds are fixed in api.views",
    "scope_exempt": "declare it on the one action it exempts: @action(..., scope_exempt='why')",
}
FRAMEWORK_MODULES = ("rest_framework.", "django.")

# DRF's standard actions that answer about one object; any other action is a detail action when its
# route says so (`detail`, set by the router) or its @action does.
DETAIL_ACTIONS = frozenset({"retrieve", "update", "partial_update", "destroy"})

# This module's own classes: the only ones trusted with the names above. Filled at the end of the module
# (so a class elsewhere cannot claim to be one by setting `__module__`).
_BASES: frozenset[type] = frozenset()
_SEALED = False


def _name(klass) -> str:
    return f"{klass.__module__}.{klass.__qualname__}"


def _trusted(klass) -> bool:
    return klass in _BASES


def _framework(klass) -> bool:
    return klass is object or klass.__module__.startswith(FRAMEWORK_MODULES)


def override_problems(cls) -> list[str]:
    """Classes in `cls.__mro__` that define a guarded name they may not define."""
    problems = []
    for name, instead in GUARDED_NAMES.items():
        definers = [klass for klass in cls.__mro__ if name in vars(klass)]
        for klass in definers:
            if not _trusted(klass) and not _framework(klass):
                problems.append(f"{cls.__qualname__}: {_name(klass)} overrides {name}; {instead}.")
        ours = next((klass for klass in definers if _trusted(klass)), None)
        if ours is not None and definers[0] is not ours and _framework(definers[0]):
            problems.append(
                f"{cls.__qualname__}: {_name(definers[0])}.{name} comes before {_name(ours)}.{name} in the "
                f"MRO and overrides it; put the api.views base first."
            )
    return problems


# Keyword arguments of `as_view()` (and of `@action`, which DRF passes to it) that change whose rows a
# scoped view reads: the scope belongs to the viewset, so an action that needs another is another viewset.
SCOPE_SETTINGS = ("queryset", "organisation_field", "shared_read")


def initkwargs_problems(cls, initkwargs, where: str) -> list[str]:
    """Keyword arguments given to `as_view()` or `@action` that would replace what decides the rows."""
    problems = []
    for name in initkwargs:
        if name in GUARDED_NAMES and name != "scope_exempt":
            problems.append(f"{where} sets {name}; {GUARDED_NAMES[name]}.")
        elif name in SCOPE_SETTINGS and issubclass(cls, OrganisationScopedMixin):
            problems.append(f"{where} sets {name}: the scope belongs to the viewset; define another one.")
    return problems


def _scoped_problems(cls, *, routed: bool) -> list[str]:
    problems = []
    if not issubclass(cls, viewsets.ViewSetMixin):
        problems.append(f"{cls.__qualname__}: an organisation-scoped view is a viewset; derive it from Scoped*ViewSet.")
    queryset = getattr(cls, "queryset", None)
    if queryset is None:
        if routed:
            problems.append(f"{cls.__qualname__} must set queryset = Model.objects.none() and organisation_field.")
    else:
        if not cls.organisation_field:
            problems.append(f"{cls.__qualname__} must set organisation_field.")
        if isinstance(queryset, BaseManager):
            # The scope builds on the default manager: another manager's own filter would be dropped.
            filtered = queryset is not queryset.model._default_manager
        else:
            filtered = bool(queryset.query.where) and not queryset.query.is_empty()
        if filtered:
            problems.append(
                f"{cls.__qualname__}: its class-level queryset has a filter, which the scoped get_queryset() "
                "would drop; set queryset = Model.objects.none() and filter in safely_get_queryset()."
            )
    for extra in _extra_actions(cls):
        reason = extra.kwargs.get("scope_exempt")
        if reason is None:
            continue
        if extra.detail:
            problems.append(
                f"{cls.__qualname__}.{extra.__name__}: a detail action reads its object through get_object(); "
                "it cannot be scope_exempt."
            )
        elif not isinstance(reason, str) or not reason.strip():
            problems.append(
                f"{cls.__qualname__}.{extra.__name__}: scope_exempt must say why the action reads nothing scoped."
            )
    return problems


def _extra_actions(cls) -> list:
    return cls.get_extra_actions() if issubclass(cls, viewsets.ViewSetMixin) else []


def guard_problems(cls, *, routed: bool = False) -> list[str]:
    """Why `cls` breaks the rules of this module (empty when it does not). `routed`: it is in the URLs."""
    problems = override_problems(cls)
    if getattr(cls, "guard", None) not in GUARD_KINDS:
        problems.append(
            f"{cls.__qualname__} does not declare how it is guarded: derive it from a Scoped*, Public* or "
            "Caller* base in api.views."
        )
    for extra in _extra_actions(cls):
        problems += initkwargs_problems(cls, extra.kwargs, f"{cls.__qualname__}.{extra.__name__} (@action)")
    if issubclass(cls, OrganisationScopedMixin):
        problems += _scoped_problems(cls, routed=routed)
    return problems


def served_models(cls, initkwargs=None) -> set:
    """The models a view names: its queryset's, its serializer's, Django's generic views' `model`; also
    those its actions and `as_view()` keyword arguments name."""
    sources = [{name: getattr(cls, name, None) for name in ("queryset", "serializer_class", "model")}]
    sources += [extra.kwargs for extra in _extra_actions(cls)]
    sources.append(initkwargs or {})
    models = set()
    for given in sources:
        queryset = given.get("queryset")
        if queryset is not None:
            models.add(queryset.model)
        model = getattr(getattr(given.get("serializer_class"), "Meta", None), "model", None)
        if model is not None:
            models.add(model)
        if isinstance(given.get("model"), type):
            models.add(given["model"])
    return models


def purpose_problems(cls, initkwargs=None) -> list[str]:
    """A view that serves a purpose-bound model and is not guarded by `purpose`."""
    guard = getattr(cls, "guard", None)
    if guard == "purpose":
        return []
    return [
        f"{cls.__qualname__} serves {model._meta.label}, which is purpose-bound: only a view guarded by "
        f"`purpose` may serve it (this one's guard is {guard!r})."
        for model in sorted(served_models(cls, initkwargs), key=lambda model: model._meta.label)
        if is_purpose_bound(model)
    ]


def guard_declared(kind: str, reason: str):
    """Declares how a function view is guarded, so that api.checks lets it serve under /api/.

    Only `public` and `caller`: the other guards are enforced by the base classes of this module.
    """
    if kind not in FUNCTION_GUARD_KINDS:
        raise ImproperlyConfigured(
            f"A function view cannot be guarded by {kind!r}; build the view on a base in api.views."
        )
    if not reason or not reason.strip():
        raise ImproperlyConfigured("guard_declared() needs the reason why the view is safe.")

    def declare(view):
        if isinstance(view, type):
            raise ImproperlyConfigured(f"{view.__qualname__}: derive classes from a base in api.views.")
        view.guard = kind
        view.guard_reason = reason
        return view

    return declare


class GuardDeclared:
    """Makes `guard` mandatory; see the module docstring for what a subclass may not do."""

    guard: str | None = None
    GUARD_KINDS = GUARD_KINDS

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not _SEALED and cls.__module__ == __name__:
            return  # the bases below, while this module is being defined
        problems = guard_problems(cls) + purpose_problems(cls)
        if problems:
            raise ImproperlyConfigured(" ".join(problems))


def _went_through(view, how: str) -> None:
    view.__dict__.setdefault("_went_through_scope", set()).add(how)


def _refuse_unscoped_answer(view) -> None:
    """A 2xx answer of an organisation-scoped action that never read through the scope: a programming
    error (it could be another organisation's rows), so raise instead, which answers 500."""
    action = getattr(view, "action", None)
    # OPTIONS (DRF's `metadata` action: field descriptions, whose PUT part reads through get_object()),
    # and creating (writes through services).
    if action in (None, "metadata", "create"):
        return
    went_through = view.__dict__.get("_went_through_scope", set())
    detail = getattr(view, "detail", None)
    if detail is None:
        detail = action in DETAIL_ACTIONS or getattr(getattr(view, action, None), "detail", False)
    if detail:
        if "object" in went_through:
            return
        needed = "self.get_object()"
    else:
        if "queryset" in went_through or view.scope_exempt:
            return
        needed = "self.get_queryset() (or declare @action(..., scope_exempt='why') if it reads nothing scoped)"
    raise ImproperlyConfigured(
        f"{type(view).__qualname__}.{action} answered without going through the organisation scope: "
        f"call {needed} before answering."
    )


class OrganisationScopedMixin(GuardDeclared):
    """Scopes every queryset to the caller's organisations through `organisation_field`."""

    guard = "organisation"
    permission_classes = [HasOrganisationRole]
    # The path from the model to the organisation that owns a row ("pk" for Organisation itself), or
    # a tuple of paths when several organisations share a row (a sensor's controller and operator).
    organisation_field: str | tuple[str, ...] | None = None
    # Rows others may read besides the caller's own (e.g. datasets' public metadata). Declared, so a
    # reviewer sees it; it never widens writes.
    shared_read: Q | None = None
    # Set for one extra action by `@action(detail=False, ..., scope_exempt="why")` (DRF passes the
    # action's keyword arguments to the view it builds for that action's route): that action reads
    # nothing scoped, e.g. an import that writes through services which check roles themselves.
    scope_exempt: str | None = None

    @classmethod
    def organisation_paths(cls) -> tuple[str, ...]:
        field = cls.organisation_field
        paths = (field,) if isinstance(field, str) else tuple(field or ())
        if not paths:
            raise ImproperlyConfigured(f"{cls.__qualname__} must set organisation_field.")
        return paths

    def scope(self) -> Q:
        # Only organisations in which the caller holds a role this action needs: an admin of one
        # organisation who is an analyst of another lists the first one's keys only.
        roles = required_roles(self, self.request)
        organisation_ids = caller_of(self.request).organisations_with(roles)
        model = self.queryset.model
        condition = Q(pk__in=[])
        for path in self.organisation_paths():
            if "__" in path:
                # A path across a to-many relation: a subquery, so that rows are not repeated.
                owned = model._default_manager.filter(**{f"{path}__in": organisation_ids}).values("pk")
                condition |= Q(pk__in=owned)
            else:
                condition |= Q(**{f"{path}__in": organisation_ids})
        if self.shared_read is not None and self.request.method in SAFE_METHODS:
            condition |= self.shared_read
        return condition

    def safely_get_queryset(self, queryset):
        """Refine the (already scoped) queryset: filters, select_related. Never widen it."""
        return queryset

    def get_queryset(self):
        model = self.queryset.model
        if getattr(self, "swagger_fake_view", False):
            return model._default_manager.none()
        scope = self.scope()
        refined = self.safely_get_queryset(model._default_manager.filter(scope))
        if refined.model is not model:
            raise ImproperlyConfigured("safely_get_queryset() must return a queryset of the same model.")
        _went_through(self, "queryset")
        # Intersect again: whatever safely_get_queryset() did, nothing outside the scope remains.
        return refined.filter(scope)

    def safely_filter_queryset(self, queryset):
        """Refine the queryset after the filter backends ran. Never widen it."""
        return queryset

    def filter_queryset(self, queryset):
        model = self.queryset.model
        if queryset.model is not model:
            raise ImproperlyConfigured(f"filter_queryset() filters {model._meta.label} only.")
        filtered = self.safely_filter_queryset(super().filter_queryset(queryset))
        if getattr(filtered, "model", None) is not model:
            raise ImproperlyConfigured("Filters must return a queryset of the same model.")
        if getattr(self, "swagger_fake_view", False):
            return filtered.none()
        # Intersect again: whatever a filter backend or safely_filter_queryset() did, nothing outside
        # the scope remains.
        return filtered.filter(self.scope())

    def get_object(self):
        obj = super().get_object()  # DRF's: filter_queryset(get_queryset()), then the object permissions
        _went_through(self, "object")
        return obj

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Only what the action itself reads counts (not, say, a permission class that read the queryset).
        self._went_through_scope = set()

    def finalize_response(self, request, response, *args, **kwargs):
        if 200 <= response.status_code < 300:
            _refuse_unscoped_answer(self)
        return super().finalize_response(request, response, *args, **kwargs)

    def organisation_ids_of(self, obj) -> set[int]:
        """The organisations a row belongs to, along every organisation path (to-many paths too)."""
        ids = set()
        for path in self.organisation_paths():
            if "__" in path:
                related = type(obj)._default_manager.filter(pk=obj.pk).values_list(path, flat=True)
                ids.update(value for value in related if value is not None)
                continue
            if path == "pk":
                ids.add(obj.pk)
            else:  # a foreign key, or a plain column holding an organisation's id (the access log's)
                ids.add(getattr(obj, path if path.endswith("_id") else f"{path}_id"))
        return ids


class ScopedModelViewSet(OrganisationScopedMixin, viewsets.ModelViewSet):
    pass


class ScopedReadOnlyViewSet(OrganisationScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedGenericViewSet(OrganisationScopedMixin, viewsets.GenericViewSet):
    """Compose with DRF's mixins for endpoints that offer only some of list/retrieve/create/update."""


class PublicMixin(GuardDeclared):
    guard = "public"
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get_queryset(self):
        return self.safely_get_queryset(super().get_queryset())

    def safely_get_queryset(self, queryset):
        """Refine the public queryset per request (e.g. what is in force now)."""
        return queryset


class PublicAPIView(PublicMixin, APIView):
    pass


class PublicReadOnlyViewSet(PublicMixin, viewsets.ReadOnlyModelViewSet):
    pass


class CallerAPIView(GuardDeclared, APIView):
    guard = "caller"
    permission_classes = [IsAuthenticatedCaller]


ACCESS_LEVELS = frozenset({"aggregate", "records"})


def request_is_read_only(request) -> bool:
    return request.method in SAFE_METHODS


class PurposeBoundMixin(GuardDeclared):
    """Data, read for a declared purpose: the one door to purpose-bound models.

    Beside OrganisationScopedMixin, not a subclass: data is scoped by grants, never by membership, and
    `shared_read` never applies. In `initial()`, after authentication, roles and throttling (so 401,
    403 and 429 come first), the view names what it reads (`guard_target()`) and purposes.services
    decides; the decision is `self.decision`, which the data selectors require. `finalize_response()`,
    which DRF runs for refusals too, appends exactly one access event, or answers 503 when it cannot.
    """

    guard = "purpose"
    access_level: str | None = None  # "records" or "aggregate"
    # Anonymous callers may use an open grant; a signed-in caller or key needs a role that reads data
    # somewhere (integrators send data in, they do not read it back). The guard decides the rest.
    permission_classes = [ReadsDataOrAnonymous]
    decision = None

    def guard_target(self, request) -> dict:
        """{"dataset_ids": [...], "params": {"bucket_minutes", "by", "fields"}} from the request; a
        ValidationError (422) for bad parameters."""
        raise NotImplementedError

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        method = request.method.lower()
        if method == "options" or method not in self.http_method_names or not hasattr(self, method):
            return  # metadata, or a 405: nothing is read, so nothing is decided
        purpose_guard.guard_initial(self, request)
        # Decided: the data reads of the handler may go to the read replica (api.replica), and only they.
        replica.open_scope()

    def handle_exception(self, exc):
        if database_unavailable(exc) and replica.scope_used() and request_is_read_only(self.request):
            # The replica failed since its last check: mark it down, and read again from the primary.
            replica.close_scope()
            replica.mark_down()
            try:
                return getattr(self, self.request.method.lower())(self.request, *self.args, **self.kwargs)
            except Exception as again:  # noqa: BLE001 (handled as any error of the handler below)
                exc = again
        replica.close_scope()
        try:
            return super().handle_exception(exc)
        except Exception:
            # An error after the decision still leaves its event (no data left with the 500).
            purpose_guard.guard_finalize(self, self.request, Response(status=500))
            raise

    def finalize_response(self, request, response, *args, **kwargs):
        replica.close_scope()  # the access event and everything after it: the primary
        response = purpose_guard.guard_finalize(self, request, response)
        return super().finalize_response(request, response, *args, **kwargs)

    def get_queryset(self):
        """The purpose-bound model's rows of the decided datasets, read under the decision."""
        model = self.queryset.model
        if getattr(self, "swagger_fake_view", False) or self.decision is None:
            return model.objects.none()
        # for_decision() keeps to the decided datasets; intersect again after the refinement.
        rows = self.safely_get_queryset(model.objects.for_decision(self.decision))
        return rows.filter(dataset_id__in=self.decision.dataset_ids)

    def safely_get_queryset(self, queryset):
        return queryset


class PurposeBoundAPIView(PurposeBoundMixin, APIView):
    pass


class PurposeBoundReadOnlyViewSet(PurposeBoundMixin, viewsets.ReadOnlyModelViewSet):
    pass


__all__ = [
    "CallerAPIView",
    "PublicAPIView",
    "PublicReadOnlyViewSet",
    "PurposeBoundAPIView",
    "PurposeBoundReadOnlyViewSet",
    "ScopedGenericViewSet",
    "ScopedModelViewSet",
    "ScopedReadOnlyViewSet",
    "guard_declared",
    "mixins",
]

_BASES = frozenset(
    value for value in dict(globals()).values() if isinstance(value, type) and value.__module__ == __name__
)
_SEALED = True
