"""Fail closed: every API view declares how it is guarded, and scoping cannot be bypassed.

This walk is independent of the system check in api.checks (tests/api/test_side_entrances.py tests
that one): every callback under /api/ and every DRF view anywhere, function views included.
"""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from accounts.models import ApiKey, Organisation
from api.views import (
    FUNCTION_GUARD_KINDS,
    GUARD_KINDS,
    GuardDeclared,
    PublicAPIView,
    ScopedModelViewSet,
    ScopedReadOnlyViewSet,
)
from tests.factories import OrganisationFactory, api_key_for

# Views that are not part of the platform's own API (the OpenAPI document and its viewers).
THIRD_PARTY = ("drf_spectacular.",)


def iter_patterns(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern).removeprefix("^")
        if isinstance(pattern, URLResolver):
            yield from iter_patterns(pattern, route)
        elif isinstance(pattern, URLPattern):
            yield route, pattern.callback


def api_views():
    """(route, callback, class or None for a function view) for every view under /api/ and every DRF view."""
    for route, callback in iter_patterns():
        cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
        if (cls or callback).__module__.startswith(THIRD_PARTY):
            continue
        if route.startswith("api/") or (cls is not None and issubclass(cls, APIView)):
            yield route, callback, cls


def guard_of(callback, cls):
    return cls.guard if cls is not None else getattr(callback, "guard", None)


def test_the_resolver_has_api_views():
    classes = [cls for _, _, cls in api_views() if cls is not None]
    functions = [callback for _, callback, cls in api_views() if cls is None]
    assert len(classes) >= 3
    assert functions, "the catch-all 404 under /api/ is a function view: the walk must see it"


@pytest.mark.parametrize(("route", "callback", "cls"), list(api_views()), ids=str)
def test_every_api_view_declares_its_guard(route, callback, cls):
    if cls is None:
        assert getattr(callback, "guard", None) in FUNCTION_GUARD_KINDS, (
            f"{route}: the function view {callback.__qualname__} is not marked with api.views.guard_declared"
        )
        assert callback.guard_reason
    else:
        assert issubclass(cls, GuardDeclared), f"{route}: {cls.__qualname__} is not built on api.views"
        assert cls.guard in GUARD_KINDS


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("route", "guard"),
    [(route, guard_of(callback, cls)) for route, callback, cls in api_views() if guard_of(callback, cls) != "public"],
    ids=str,
)
def test_every_non_public_view_refuses_anonymous_callers(route, guard):
    url = "/" + re.sub(r"\(\?P<\w+>[^)]*\)|<[^>]+>", "x", route).replace("^", "").replace("$", "")
    response = APIClient().get(url)
    if guard == "purpose":
        # The purpose guard decides per request (an open grant admits anonymous callers): without a
        # declared purpose, no data.
        assert response.status_code >= 400, url
        assert response["Content-Type"] == "application/problem+json"
        return
    assert response.status_code in (401, 405), url
    if response.status_code == 401:
        assert response["Content-Type"] == "application/problem+json"


def test_a_viewset_overriding_get_queryset_refuses_to_be_defined():
    with pytest.raises(ImproperlyConfigured, match="overrides get_queryset"):

        class Leaky(ScopedModelViewSet):
            queryset = Organisation.objects.none()
            organisation_field = "pk"

            def get_queryset(self):
                return Organisation.objects.all()


def test_a_scoped_viewset_without_an_organisation_field_refuses_to_be_defined():
    with pytest.raises(ImproperlyConfigured, match="organisation_field"):

        class Unscoped(ScopedReadOnlyViewSet):
            queryset = Organisation.objects.none()


def test_a_view_that_does_not_say_how_it_is_guarded_refuses_to_be_defined():
    class Declared(PublicAPIView):
        pass

    with pytest.raises(ImproperlyConfigured, match="does not declare"):

        class Undeclared(GuardDeclared, APIView):
            pass


@pytest.mark.django_db
def test_safely_get_queryset_cannot_widen_the_scope():
    mine, theirs = OrganisationFactory(), OrganisationFactory()
    own_key, _ = api_key_for(mine)
    api_key_for(theirs)

    class Widening(ScopedReadOnlyViewSet):
        queryset = ApiKey.objects.none()
        organisation_field = "organisation"

        def safely_get_queryset(self, queryset):
            return ApiKey.objects.all()  # tries to escape the scope

    request = APIRequestFactory().get("/")
    request.auth = own_key
    request.user = None
    view = Widening()
    view.request = request
    assert list(view.get_queryset()) == [own_key]
