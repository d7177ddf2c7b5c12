"""What every page has, without a browser (tests/e2e/test_accessibility.py drives one): its language declared, a
title and words in that language, a skip link first that leads to the main content, and the nav marking where
you are."""

import re

import pytest

pytestmark = pytest.mark.django_db

PAGES = {
    "/": {"en": ("Crowd Data Platform", "share crowd data"), "nl": ("Crowd Data Platform", "gegevens over drukte")},
    "/register/": {"en": ("Sensor register ·", "Sensor register"), "nl": ("Sensorregister ·", "Sensorregister")},
    "/dashboard/": {
        "en": ("How busy is the city centre? ·", "How busy"),
        "nl": ("Hoe druk is het in het centrum? ·", "Hoe druk"),
    },
    "/accounts/login/": {"en": ("Sign in ·", "Sign in"), "nl": ("Aanmelden ·", "Gebruikersnaam")},
}
SKIP = {"en": "Skip to content", "nl": "Naar de inhoud"}


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("path", PAGES)
def test_every_page_declares_its_language_and_says_it_in_that_language(client, path, language):
    title, words = PAGES[path][language]
    text = client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()
    assert f'<html lang="{language}">' in text
    assert re.search(r"<title>(.*?)</title>", text).group(1).startswith(title)
    main = text[text.index('<main id="content"') :]
    assert words in main
    body = text[text.index("<body>") + len("<body>") :].lstrip()
    assert body.startswith(f'<a class="skip-link" href="#content">{SKIP[language]}</a>')


def test_the_nav_marks_the_page_you_are_on(client):
    text = client.get("/register/").content.decode()
    assert re.search(r'<a href="/register/" aria-current="page">', text)
    assert re.search(r'<a href="/dashboard/">', text)
    text = client.get("/dashboard/").content.decode()
    assert re.search(r'<a href="/dashboard/" aria-current="page">', text)
    assert re.search(r'<a href="/register/">', text)


def test_a_wrong_password_is_said_in_dutch(client):
    response = client.post("/accounts/login/", {"username": "nobody", "password": "wrong"}, HTTP_ACCEPT_LANGUAGE="nl")
    assert "Uw gebruikersnaam en wachtwoord horen niet bij elkaar." in response.content.decode()


NOT_FOUND = {
    "en": ("Page not found ·", "There is no page at this address"),
    "nl": ("Pagina niet gevonden ·", "Op dit adres"),
}


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("path", ["/no-such-page/", "/register/sensors/999999999/", "/catalogue/999999999/"])
def test_a_page_not_found_is_a_page_of_the_site_in_the_readers_language(client, path, language):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 404
    text = response.content.decode()
    title, words = NOT_FOUND[language]
    assert f'<html lang="{language}">' in text
    assert re.search(r"<title>(.*?)</title>", text).group(1).startswith(title)
    assert words in text[text.index('<main id="content"') :]
    assert '<a href="/catalogue/"' in text


def test_an_api_path_not_found_stays_problem_json(client):
    response = client.get("/api/v1/no-such-thing/", HTTP_ACCEPT_LANGUAGE="nl")
    assert (response.status_code, response["Content-Type"]) == (404, "application/problem+json")


@pytest.mark.parametrize("language", ["en", "nl"])
@pytest.mark.parametrize("path", ["/catalogue/?q=a%00b", "/register/?type=%00"])
def test_a_nul_in_a_pages_query_is_the_sites_bad_request_page_in_the_readers_language(client, path, language):
    response = client.get(path, HTTP_ACCEPT_LANGUAGE=language)
    assert (response.status_code, response["Content-Type"]) == (400, "text/html; charset=utf-8")
    text = response.content.decode()
    assert f'<html lang="{language}">' in text
    assert {"en": "Bad request", "nl": "Onjuist verzoek"}[language] in text
    assert "\x00" not in text
