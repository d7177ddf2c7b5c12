"""Base views. Every API view declares how access to it is decided (`access`), and fails closed.

- `ScopedModelViewSet` / `ScopedReadOnlyViewSet`: rows of the caller's organisations only. The
  queryset is cut in `get_queryset`, which subclasses may not override: they refine it in
  `safely_get_queryset`, so no subclass can widen it. Another organisation's row answers 404.
- `PublicAPIView` / `PublicReadOnlyViewSet`: metadata that is public by design (no login).
- `CallerAPIView`: answers about the caller itself (`me/`).
A class that does not say how it is guarded, or overrides `get_queryset`, refuses to be defined,
so the app does not start (tests/api/test_access_audit.py walks every URL to prove it).
"""

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Q
from rest_framework import mixins, viewsets
from rest_framework.permissions import SAFE_METHODS, AllowAny
from rest_framework.views import APIView

from api.caller import caller_of
from api.permissions import HasOrganisationRole, IsAuthenticatedCaller, required_roles


class AccessDeclared:
    """Mixin that makes `access` mandatory and forbids overriding `get_queryset` outside this module."""

    access: str | None = None
    ACCESS_KINDS = frozenset({"organisation", "public", "caller"})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.__module__ != __name__:
            if "get_queryset" in vars(cls):
                raise ImproperlyConfigured(
                    f"{cls.__qualname__} overrides get_queryset(); refine safely_get_queryset() "
                    "instead, so that organisation scoping cannot be bypassed."
                )
            if cls.access not in cls.ACCESS_KINDS:
                raise ImproperlyConfigured(
                    f"{cls.__qualname__} does not declare how access is decided: derive it from a "
                    "Scoped*, Public* or Caller* base in api.views."
                )


class OrganisationScopedMixin(AccessDeclared):
    """Scopes every queryset to the caller's organisations through `organisation_field`."""

    access = "organisation"
    permission_classes = [HasOrganisationRole]
    # The path from the model to the organisation that owns a row ("pk" for Organisation itself), or
    # a tuple of paths when several organisations share a row (a sensor's controller and operator).
    organisation_field: str | tuple[str, ...] | None = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if getattr(cls, "queryset", None) is not None and not cls.organisation_field:
            raise ImproperlyConfigured(f"{cls.__qualname__} must set organisation_field.")

    @classmethod
    def organisation_paths(cls) -> tuple[str, ...]:
        field = cls.organisation_field
        paths = (field,) if isinstance(field, str) else tuple(field or ())
        if not paths:
            raise ImproperlyConfigured(f"{cls.__qualname__} must set organisation_field.")
        return paths

    # Rows others may read besides the caller's own (e.g. datasets' public metadata). Declared, so a
    # reviewer sees it; it never widens writes.
    shared_read: Q | None = None

    def scope(self) -> Q:
        # Only organisations in which the caller holds a role this action needs: an admin of one
        # organisation who is an analyst of another lists the first one's keys only.
        roles = required_roles(self, self.request)
        organisation_ids = {org for org, role in caller_of(self.request).roles.items() if role in roles}
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
        # Intersect again: whatever safely_get_queryset() did, nothing outside the scope remains.
        return refined.filter(scope)

    def organisation_ids_of(self, obj) -> set[int]:
        """The organisations a row belongs to, along every organisation path (to-many paths too)."""
        ids = set()
        for path in self.organisation_paths():
            if "__" in path:
                related = type(obj)._default_manager.filter(pk=obj.pk).values_list(path, flat=True)
                ids.update(value for value in related if value is not None)
                continue
            ids.add(obj.pk if path == "pk" else getattr(obj, f"{path}_id"))
        return ids


class ScopedModelViewSet(OrganisationScopedMixin, viewsets.ModelViewSet):
    pass


class ScopedReadOnlyViewSet(OrganisationScopedMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedGenericViewSet(OrganisationScopedMixin, viewsets.GenericViewSet):
    """Compose with DRF's mixins for endpoints that offer only some of list/retrieve/create/update."""


class PublicMixin(AccessDeclared):
    access = "public"
    permission_classes = [AllowAny]
    authentication_classes: list = []


class PublicAPIView(PublicMixin, APIView):
    pass


class PublicReadOnlyViewSet(PublicMixin, viewsets.ReadOnlyModelViewSet):
    pass


class CallerAPIView(AccessDeclared, APIView):
    access = "caller"
    permission_classes = [IsAuthenticatedCaller]


__all__ = [
    "CallerAPIView",
    "PublicAPIView",
    "PublicReadOnlyViewSet",
    "ScopedGenericViewSet",
    "ScopedModelViewSet",
    "ScopedReadOnlyViewSet",
    "mixins",
]
