"""A person's sign-in locks after repeated wrong passwords (django-axes), per user name and address."""

import pytest
from django.conf import settings

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


@pytest.fixture
def person():
    user = UserFactory(username="anna")
    user.set_password("a-long-and-right-password")
    user.save()
    return user


def sign_in(client, password, address="192.0.2.10", username="anna"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_lock_the_sign_in_even_for_the_right_one(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "guess").status_code == 200  # the form again, with its error
    locked = sign_in(client, "guess")
    assert locked.status_code == 429
    assert b"Sign-in locked" in locked.content
    # The audit's attack: 30 wrong passwords, then the right one. The right one is refused while locked.
    for _ in range(25):
        assert sign_in(client, "guess").status_code == 429
    assert sign_in(client, "a-long-and-right-password").status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_address_so_nobody_locks_another_out(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        sign_in(client, "guess", address="198.51.100.66")
    assert sign_in(client, "guess", address="198.51.100.66").status_code == 429
    welcome = sign_in(client, "a-long-and-right-password", address="192.0.2.10")
    assert welcome.status_code == 302 and client.session["_auth_user_id"] == str(person.pk)


def test_a_successful_sign_in_forgets_earlier_mistakes(client, person):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        sign_in(client, "guess")
    assert sign_in(client, "a-long-and-right-password").status_code == 302
    client.logout()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert sign_in(client, "guess").status_code == 200
    assert sign_in(client, "a-long-and-right-password").status_code == 302


def test_the_admin_sign_in_is_locked_too(client, person):
    person.is_staff = True
    person.save()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/admin/login/", {"username": "anna", "password": "guess"}, REMOTE_ADDR="192.0.2.10")
    response = client.post(
        "/admin/login/", {"username": "anna", "password": "a-long-and-right-password"}, REMOTE_ADDR="192.0.2.10"
    )
    assert response.status_code == 429


def test_a_forged_forwarded_for_header_does_not_escape_the_lock(client, person):
    """Not behind a proxy (the default), X-Forwarded-For is the client's own word and is not trusted."""
    for n in range(settings.AXES_FAILURE_LIMIT + 3):
        response = client.post(
            LOGIN,
            {"username": "anna", "password": "guess"},
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"10.0.0.{n}",
        )
    assert response.status_code == 429


def test_behind_our_proxy_the_address_it_saw_counts(client, person, settings):
    """Behind one proxy, the right-most X-Forwarded-For entry (the one the proxy appended) is the client."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}

    def through_proxy(password, forwarded_for):
        credentials = {"username": "anna", "password": password}
        return client.post(LOGIN, credentials, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=forwarded_for)

    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        response = through_proxy("guess", "203.0.113.66")  # the usual case: one entry, the proxy's own
    assert response.status_code == 429
    for n in range(settings.AXES_FAILURE_LIMIT + 1):
        response = through_proxy("guess", f"10.0.0.{n}, 203.0.113.66")  # a forged entry before the real one
    assert response.status_code == 429
    # Another client behind the same proxy is not locked out.
    assert through_proxy("a-long-and-right-password", "198.51.100.7").status_code == 302
