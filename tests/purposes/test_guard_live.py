"""Over real HTTP: withdrawal and revocation take effect on the very next request, also while others read,
and no purpose-guarded endpoint in the resolver answers data without a purpose."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import Role
from purposes import services
from purposes.models import AccessEvent, PurposeCategory
from tests.factories import api_key_for
from tests.purposes.conftest import as_role, assess, grant, make_purpose

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

READERS = 4


def fetch(url, headers):
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def read_while(url, headers, stop: threading.Event, log: list):
    while not stop.is_set():
        started = time.monotonic()
        status, body = fetch(url, headers)
        log.append((started, time.monotonic(), status, body.get("reason")))


def concurrent_change(url, headers, change) -> tuple[list, float, float]:
    """Readers hammer `url`; `change()` runs meanwhile. Returns every request and when the change ran."""
    stop, logs = threading.Event(), [[] for _ in range(READERS)]
    threads = [threading.Thread(target=read_while, args=(url, headers, stop, log)) for log in logs]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    began = time.monotonic()
    change()
    done = time.monotonic()
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    return [entry for log in logs for entry in log], began, done


def test_withdrawal_takes_effect_at_once_under_concurrent_reads(world, live_server):
    _, secret = api_key_for(world["city"], role=Role.ANALYST)
    url = f"{live_server.url}/api/v1/records/?dataset={world['dataset'].pk}&purpose=stad-crowd-safety"

    def withdraw():
        services.purpose_withdraw(
            caller=as_role(world["city"], Role.PRIVACY_OFFICER), purpose=world["safety"], reason="Stopped"
        )

    requests, began, done = concurrent_change(url, {"Authorization": f"Api-Key {secret}"}, withdraw)
    before = [r for r in requests if r[1] < began]
    after = [r for r in requests if r[0] > done]
    assert before and after
    assert {r[2] for r in before} == {200}
    assert {(r[2], r[3]) for r in after} == {(403, "purpose_withdrawn")}
    # one event per request, every one of them
    assert AccessEvent.objects.count() == len(requests)


def test_revocation_takes_effect_at_once_under_concurrent_reads(world, live_server):
    police = make_purpose(world["police"], "politie-orde", category=PurposeCategory.PUBLIC_ORDER, k_threshold=5)
    given = grant(world["dataset"], police, world["police"], assessment=assess(world["dataset"], police))
    _, secret = api_key_for(world["police"], role=Role.ANALYST)
    url = f"{live_server.url}/api/v1/records/?dataset={world['dataset'].pk}"

    def revoke():
        services.grant_revoke(caller=as_role(world["city"], Role.DATA_STEWARD), grant=given, reason="Ended")

    headers = {"Authorization": f"Api-Key {secret}", "X-Purpose": "politie-orde"}
    requests, began, done = concurrent_change(url, headers, revoke)
    assert {r[2] for r in requests if r[1] < began} == {200}
    assert {(r[2], r[3]) for r in requests if r[0] > done} == {(403, "grant_revoked")}


def purpose_guarded_routes(resolver=None, prefix=""):
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from purpose_guarded_routes(pattern, route)
        elif isinstance(pattern, URLPattern):
            cls = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
            if getattr(cls, "guard", None) == "purpose":
                # A path parameter takes a real value (the indicator's code), so that the route itself is found.
                yield "/" + route.replace("^", "").replace("$", "").replace("<slug:code>", "count")


def test_every_purpose_guarded_route_refuses_the_owner_without_a_purpose(world, live_server):
    routes = list(purpose_guarded_routes())
    assert {"/api/v1/records/", "/api/v1/aggregates/counts/"} <= set(routes)
    _, secret = api_key_for(world["city"], role=Role.ADMIN)
    for route in routes:
        status, body = fetch(
            f"{live_server.url}{route}?dataset={world['dataset'].pk}", {"Authorization": f"Api-Key {secret}"}
        )
        assert (status, body.get("reason")) == (403, "purpose_missing"), route
        status, body = fetch(f"{live_server.url}{route}?dataset={world['dataset'].pk}", {})
        assert (status, body.get("reason")) == (403, "purpose_missing"), route
