"""The side entrances of the fail-closed base (ADR 0002), each closed: one test (or a few) per entrance.

Each was accepted before: a mixin before a Scoped base overriding get_queryset; overriding
filter_queryset or get_object; an @action reading a model directly; a public view over records; a
class-level filtered queryset on a Scoped view (its filter silently dropped); function views under
/api/; and an application server that never ran a check.
"""

import os
import secrets
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.exceptions import ImproperlyConfigured
from django.http import JsonResponse
from django.urls import include, path
from django.views.generic import ListView
from django.views.generic.list import MultipleObjectMixin
from rest_framework.decorators import action
from rest_framework.filters import BaseFilterBackend
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from accounts.api.serializers import ApiKeySerializer
from accounts.models import ApiKey, Role
from api.checks import TAG, check_at_start_up, is_purpose_bound
from api.views import (
    PublicAPIView,
    PublicReadOnlyViewSet,
    ScopedGenericViewSet,
    ScopedReadOnlyViewSet,
    guard_declared,
    mixins,
)
from datasets.models import Record, RecordRollup
from tests.factories import OrganisationFactory, api_key_for

PROJECT_DIR = Path(__file__).resolve().parents[2]


def all_rows(model):
    """Every row of `model`, however obtained (the default manager of a purpose-bound model refuses to
    read unguarded, so the checks below must not rely on it)."""
    return model._base_manager.all()


def scoped_key_view(name="Keys", bases=(ScopedReadOnlyViewSet,), **attributes):
    """Define a viewset over API keys scoped to their organisation, with `attributes` added."""
    body = {"__module__": __name__, "queryset": ApiKey.objects.none(), "organisation_field": "organisation"}
    return type(name, bases, body | attributes)


# 1. A mixin before a Scoped base: the whole MRO is read, not vars(cls).


class EveryKey:
    """A mixin as one might write it: it answers every organisation's API keys."""

    def get_queryset(self):
        return ApiKey.objects.all()


def test_a_mixin_before_a_scoped_base_cannot_override_get_queryset():
    with pytest.raises(ImproperlyConfigured, match=r"test_side_entrances\.EveryKey overrides get_queryset"):
        scoped_key_view(bases=(EveryKey, ScopedReadOnlyViewSet))


def test_a_django_mixin_cannot_shadow_the_scope_either():
    # Django's own MultipleObjectMixin.get_queryset() would come first in the MRO and answer every row.
    with pytest.raises(ImproperlyConfigured, match=r"MultipleObjectMixin\.get_queryset comes before"):
        scoped_key_view(bases=(MultipleObjectMixin, ScopedReadOnlyViewSet))


def test_a_class_cannot_pass_for_one_of_api_views_bases():
    with pytest.raises(ImproperlyConfigured, match="overrides get_queryset"):
        scoped_key_view(__module__="api.views", get_queryset=lambda self: ApiKey.objects.all())


# 2. Overriding filter_queryset, get_object, or the scope's own methods.


@pytest.mark.parametrize(
    "name", ["filter_queryset", "get_object", "scope", "organisation_ids_of", "finalize_response", "__init_subclass__"]
)
def test_a_scoped_view_cannot_override_what_decides_its_rows(name):
    with pytest.raises(ImproperlyConfigured, match=f"overrides {name}"):
        scoped_key_view(**{name: lambda self, *args, **kwargs: None})


@pytest.mark.parametrize("name", ["filter_queryset", "get_object"])
def test_nor_can_a_mixin(name):
    mixin = type("Widening", (), {name: lambda self, *args, **kwargs: None})
    with pytest.raises(ImproperlyConfigured, match=f"Widening overrides {name}"):
        scoped_key_view(bases=(mixin, ScopedReadOnlyViewSet))


@pytest.mark.parametrize("guard", ["purpose", "public"])
def test_a_view_cannot_declare_its_own_guard(guard):
    with pytest.raises(ImproperlyConfigured, match="overrides guard"):
        type("Claims", (PublicAPIView,), {"__module__": __name__, "guard": guard})


class EveryRow(BaseFilterBackend):
    """A filter backend that widens the queryset it is given."""

    def filter_queryset(self, request, queryset, view):
        return queryset.model._default_manager.all()


@pytest.mark.django_db
def test_the_filter_backends_cannot_widen_the_scope():
    mine, theirs = OrganisationFactory(), OrganisationFactory()
    own_key, _ = api_key_for(mine, role=Role.ADMIN)
    api_key_for(theirs)
    request = APIRequestFactory().get("/")
    request.auth, request.user = own_key, None
    view = scoped_key_view(filter_backends=[EveryRow], action_roles={"read": {Role.ADMIN}})()
    view.request, view.action = request, "list"
    assert list(view.filter_queryset(view.get_queryset())) == [own_key]


def test_the_safe_hooks_are_still_allowed():
    scoped_key_view(
        safely_get_queryset=lambda self, queryset: queryset.select_related("organisation"),
        safely_filter_queryset=lambda self, queryset: queryset.filter(revoked=False),
    )


# 3. An @action that reads a model directly: refused at run time (500, and no row leaves).


class KeysWithActions(mixins.ListModelMixin, ScopedGenericViewSet):
    queryset = ApiKey.objects.none()
    organisation_field = "organisation"
    serializer_class = ApiKeySerializer
    lookup_field = "prefix"
    action_roles = {"read": {Role.ADMIN}, "write": {Role.ADMIN}}

    @action(detail=False, methods=["get"])
    def everything(self, request):
        return Response(ApiKeySerializer(ApiKey.objects.all(), many=True).data)

    @action(detail=True, methods=["get"])
    def sibling(self, request, prefix=None):
        return Response(ApiKeySerializer(ApiKey.objects.get(prefix=prefix)).data)

    @action(detail=True, methods=["get"])
    def listed_not_fetched(self, request, prefix=None):
        self.get_queryset()  # a detail action must read its object through get_object()
        return Response(ApiKeySerializer(ApiKey.objects.get(prefix=prefix)).data)

    def retrieve(self, request, prefix=None):  # a standard action, rewritten around the scope
        return Response(ApiKeySerializer(ApiKey.objects.get(prefix=prefix)).data)

    @action(detail=False, methods=["get"])
    def mine(self, request):
        return Response(ApiKeySerializer(self.filter_queryset(self.get_queryset()), many=True).data)

    @action(detail=True, methods=["get"])
    def one(self, request, prefix=None):
        return Response(ApiKeySerializer(self.get_object()).data)

    @action(detail=False, methods=["post"], scope_exempt="answers a constant; reads nothing")
    def ping(self, request):
        return Response({"pong": True}, status=201)


actions_router = SimpleRouter()
actions_router.register("keys", KeysWithActions, basename="test-key")


class ActionURLs:
    urlpatterns = [path("api/v1/", include(actions_router.urls))]
    handler500 = "api.problems.server_error"


@pytest.fixture
def keys_of_two_organisations(db, settings, key_client):
    settings.ROOT_URLCONF = ActionURLs
    mine, theirs = OrganisationFactory(), OrganisationFactory()
    their_key, _ = api_key_for(theirs, name="their-secret-key")
    client = key_client(mine, Role.ADMIN)
    client.raise_request_exception = False
    return client, their_key


@pytest.mark.parametrize("url", ["/api/v1/keys/everything/", "/api/v1/keys/{}/sibling/", "/api/v1/keys/{}/"])
def test_an_action_that_reads_around_the_scope_answers_500_and_no_row(url, keys_of_two_organisations, caplog):
    client, their_key = keys_of_two_organisations
    response = client.get(url.format(their_key.prefix))
    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    assert "their-secret-key" not in response.content.decode()
    assert "answered without going through the organisation scope" in caplog.text


def test_a_detail_action_must_read_its_object_through_get_object(keys_of_two_organisations):
    client, their_key = keys_of_two_organisations
    response = client.get(f"/api/v1/keys/{their_key.prefix}/listed_not_fetched/")
    assert response.status_code == 500
    assert "their-secret-key" not in response.content.decode()


def test_actions_that_go_through_the_scope_still_answer(keys_of_two_organisations):
    client, their_key = keys_of_two_organisations
    own = client.get("/api/v1/keys/mine/")
    assert own.status_code == 200
    assert [key["name"] for key in own.json()] == ["test key"]
    assert client.get("/api/v1/keys/").status_code == 200
    assert client.get(f"/api/v1/keys/{own.json()[0]['prefix']}/one/").status_code == 200
    assert client.get(f"/api/v1/keys/{their_key.prefix}/one/").status_code == 404
    assert client.post("/api/v1/keys/ping/").status_code == 201  # declared scope_exempt


def peek(self, request, pk=None):
    return Response(ApiKeySerializer(ApiKey.objects.all(), many=True).data)


def test_scope_exempt_is_declared_on_a_list_action_with_a_reason():
    with pytest.raises(ImproperlyConfigured, match="cannot be scope_exempt"):
        scoped_key_view(peek=action(detail=True, scope_exempt="why not")(peek))
    with pytest.raises(ImproperlyConfigured, match="must say why"):
        scoped_key_view(peek=action(detail=False, scope_exempt=" ")(peek))
    with pytest.raises(ImproperlyConfigured, match="overrides scope_exempt"):
        scoped_key_view(scope_exempt="every action, please")


def test_an_action_cannot_bring_its_own_queryset_or_methods():
    with pytest.raises(ImproperlyConfigured, match=r"peek \(@action\) sets queryset"):
        scoped_key_view(peek=action(detail=False, queryset=ApiKey.objects.all())(peek))
    with pytest.raises(ImproperlyConfigured, match=r"peek \(@action\) sets get_queryset"):
        scoped_key_view(peek=action(detail=False, get_queryset=ApiKey.objects.all)(peek))
    with pytest.raises(ImproperlyConfigured, match="datasets.Record, which is purpose-bound"):
        type(
            "Open",
            (PublicReadOnlyViewSet,),
            {"__module__": __name__, "peek": action(detail=False, queryset=all_rows(Record))(peek)},
        )


# 4. A view that is not purpose-guarded over a purpose-bound model.


def test_records_and_rollups_are_purpose_bound():
    assert is_purpose_bound(Record) and is_purpose_bound(RecordRollup)
    assert not is_purpose_bound(ApiKey)


def test_a_public_view_cannot_serve_records():
    with pytest.raises(ImproperlyConfigured, match="datasets.Record, which is purpose-bound"):

        class OpenRecords(PublicReadOnlyViewSet):
            queryset = all_rows(Record)


def test_nor_through_its_serializer_nor_behind_the_organisation_scope():
    from rest_framework import serializers

    class RollupSerializer(serializers.ModelSerializer):
        class Meta:
            model = RecordRollup
            fields = ["bucket", "count"]

    with pytest.raises(ImproperlyConfigured, match="datasets.RecordRollup, which is purpose-bound"):
        type("OpenRollups", (PublicAPIView,), {"__module__": __name__, "serializer_class": RollupSerializer})
    with pytest.raises(ImproperlyConfigured, match="datasets.Record, which is purpose-bound"):
        scoped_key_view(queryset=Record.objects.none(), organisation_field="dataset__owner")


# 5. A class-level filtered queryset on a Scoped view: its filter would be dropped.


def test_a_scoped_view_cannot_carry_a_filter_it_would_drop():
    with pytest.raises(ImproperlyConfigured, match="would drop"):
        scoped_key_view(queryset=ApiKey.objects.filter(revoked=False))


def test_an_empty_or_unfiltered_class_queryset_is_accepted():
    scoped_key_view(queryset=ApiKey.objects.none())
    scoped_key_view(queryset=ApiKey.objects.filter(revoked=False).none())
    scoped_key_view(queryset=ApiKey.objects.all())
    scoped_key_view(queryset=ApiKey.objects)
    type("Active", (PublicReadOnlyViewSet,), {"__module__": __name__, "queryset": ApiKey.objects.filter(revoked=False)})


# 6. The system check: every callback in the resolver (function views too), and views patched after
# their class was defined.


def dump_keys(request):
    return JsonResponse({"keys": list(ApiKey.objects.values_list("name", flat=True))})


def urlconf(*patterns):
    return type("URLs", (), {"urlpatterns": list(patterns)})


def errors_for(settings, *patterns):
    settings.ROOT_URLCONF = urlconf(*patterns)
    return sorted((message.id, message.msg) for message in run_checks(tags=[TAG]))


def test_the_system_check_reports_a_plain_function_view_under_api(settings):
    errors = errors_for(settings, path("api/v1/keys-dump/", dump_keys), path("pages/keys/", dump_keys))
    assert [(code, "/api/v1/keys-dump/" in text) for code, text in errors] == [("api.E001", True)]


def test_a_function_view_declared_with_guard_declared_passes(settings):
    declared = guard_declared("public", "answers a constant")(lambda request: JsonResponse({}))
    assert errors_for(settings, path("api/v1/ping/", declared)) == []
    with pytest.raises(ImproperlyConfigured, match="cannot be guarded by 'organisation'"):
        guard_declared("organisation", "trust me")


def test_the_system_check_reports_views_not_built_on_api_views(settings):
    class Bare(APIView):
        def get(self, request):
            return Response({})

    errors = errors_for(settings, path("api/v1/bare/", Bare.as_view()), path("elsewhere/", Bare.as_view()))
    assert [code for code, _ in errors] == ["api.E001", "api.E001"]


def test_the_system_check_reports_a_public_view_over_records(settings):
    class Records(PublicReadOnlyViewSet):
        pass

    Records.queryset = all_rows(Record)  # after the class was defined: only the system check sees it
    router = SimpleRouter()
    router.register("records", Records, basename="records")
    errors = errors_for(
        settings, path("api/v1/", include(router.urls)), path("records/", ListView.as_view(model=RecordRollup))
    )
    assert [code for code, _ in errors] == ["api.E003", "api.E003"]
    assert any("datasets.Record," in text for _, text in errors)
    assert any("datasets.RecordRollup," in text for _, text in errors)


def test_the_system_check_reports_a_view_patched_around_the_scope(settings):
    Keys = scoped_key_view()
    Keys.get_queryset = lambda self: ApiKey.objects.all()
    router = SimpleRouter()
    router.register("keys", Keys, basename="keys")
    errors = errors_for(settings, path("api/v1/", include(router.urls)))
    assert {code for code, _ in errors} == {"api.E002"}
    assert "overrides get_queryset" in errors[0][1]


def test_the_real_urls_pass_the_system_check():
    assert run_checks(tags=[TAG]) == []


# 7. The application servers run the check when they load the application.


def test_start_up_refuses_on_an_error(settings):
    settings.ROOT_URLCONF = urlconf(path("api/v1/keys-dump/", dump_keys))
    with pytest.raises(ImproperlyConfigured, match=r"api\.E001"):
        check_at_start_up()


@pytest.fixture
def leaky_settings(tmp_path):
    (tmp_path / "leaky_urls.py").write_text(
        textwrap.dedent(
            """
            from django.http import JsonResponse
            from django.urls import path

            def keys(request):
                return JsonResponse({})

            urlpatterns = [path("api/v1/keys/", keys)]
            """
        )
    )
    (tmp_path / "leaky_settings.py").write_text('from config.settings import *  # noqa\nROOT_URLCONF = "leaky_urls"\n')
    return tmp_path


def run(command, settings_module, extra_path=None):
    env = os.environ | {"DJANGO_SETTINGS_MODULE": settings_module, "DJANGO_SECRET_KEY": secrets.token_urlsafe(50)}
    paths = [str(PROJECT_DIR / "platform"), str(PROJECT_DIR)] + ([str(extra_path)] if extra_path else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return subprocess.run(  # noqa: S603  (our own interpreter and arguments)
        command, cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def gunicorn_check_config(pythonpath):
    return [sys.executable, "-m", "gunicorn", "--check-config", "--pythonpath", pythonpath, "config.wsgi"]


def test_gunicorn_refuses_to_load_an_application_with_an_undeclared_view(leaky_settings):
    result = run(gunicorn_check_config(f"platform,{leaky_settings}"), "leaky_settings", leaky_settings)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "api.E001" in result.stderr and "/api/v1/keys/" in result.stderr


def test_gunicorn_loads_the_real_application():
    result = run(gunicorn_check_config("platform"), "config.settings")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_asgi_application_refuses_too(leaky_settings):
    result = run([sys.executable, "-c", "import config.asgi"], "leaky_settings", leaky_settings)
    assert result.returncode != 0
    assert "api.E001" in result.stderr
