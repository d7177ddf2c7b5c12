"""Related fields that read the caller: a request names only what its caller may reference.

Every writable related field of a serializer under /api/ is one of these (tests/security/
test_related_fields.py walks them all). It declares either `scope=`, a selector that takes the caller
(keyword `caller`) and returns the rows it may name (its own organisations' rows, and others' only where they are public
and naming them means something), or `public=`, why every row may be named (the sensor taxonomy, the
standard schemas). The caller is read from the serializer's context (`request`); without one it is
anonymous, who may name nothing private.

A row outside the scope answers exactly like a missing one: the same 422, the same message, from the
same single query (the lookup runs on the scoped queryset), so ids cannot be probed. Values no row can
have (NUL bytes, integers beyond a database key) are answered the same way without a query.
"""

from django.core.exceptions import ImproperlyConfigured
from rest_framework import serializers

from accounts.selectors import ANONYMOUS
from api.caller import caller_of

MAX_KEY = 2**63 - 1


class ScopedRelatedFieldMixin:
    """`scope(caller=...) -> QuerySet` decides which rows may be named; or `public="why"` for any row."""

    def __init__(self, *, model=None, scope=None, public: str | None = None, **kwargs):
        if (scope is None) == (public is None):
            raise ImproperlyConfigured(f"{type(self).__name__}: declare scope=<selector> or public='<why>'.")
        if public is not None and not public.strip():
            raise ImproperlyConfigured(f"{type(self).__name__}: public= must say why every row may be named.")
        self.scope, self.public = scope, public
        if not kwargs.get("read_only"):
            if model is None:
                raise ImproperlyConfigured(f"{type(self).__name__}: name the model.")
            # Fails closed: anything that reads `queryset` directly, not through get_queryset(), finds
            # nothing (the public fields excepted). The model is also what the OpenAPI document reads.
            manager = model._default_manager
            kwargs["queryset"] = manager.all() if public is not None else manager.none()
        super().__init__(**kwargs)

    def caller(self):
        request = self.context.get("request")
        return caller_of(request) if request is not None else ANONYMOUS

    def get_queryset(self):
        if self.public is not None:
            return self.queryset.all()
        scoped = self.scope(caller=self.caller())
        if scoped.model is not self.queryset.model:
            raise ImproperlyConfigured(f"{self.scope.__name__} returns {scoped.model.__name__} rows, not the field's.")
        return scoped


class ScopedPrimaryKeyRelatedField(ScopedRelatedFieldMixin, serializers.PrimaryKeyRelatedField):
    def to_internal_value(self, data):
        if isinstance(data, bool | float):  # 1.5 was read as row 1, true as row 1
            self.fail("incorrect_type", data_type=type(data).__name__)
        if isinstance(data, int) and not isinstance(data, bool) and not 0 < data <= MAX_KEY:
            self.fail("does_not_exist", pk_value=data)
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(data)


class ScopedSlugRelatedField(ScopedRelatedFieldMixin, serializers.SlugRelatedField):
    def to_internal_value(self, data):
        if isinstance(data, str) and "\x00" in data:
            self.fail("does_not_exist", slug_name=self.slug_field, value=data)
        return super().to_internal_value(data)
