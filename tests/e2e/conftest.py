"""What the browser tests share: Debian's Chromium, headless, driven by Playwright, and the demo data."""

import shutil
from contextlib import contextmanager
from io import StringIO

import pytest
from django.core.management import call_command
from playwright.sync_api import sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# The machine has no outside network: keep Chromium from reaching for Google's services.
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def demo(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    call_command("demo", stdout=StringIO())


@contextmanager
def browser_page(locale="en-GB", **options):
    """A page in a new headless Chromium (`options` go to new_page, e.g. a viewport). Every database read
    happens before this block: Playwright's sync API runs an event loop here."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield browser.new_page(locale=locale, **options)
        finally:
            browser.close()
