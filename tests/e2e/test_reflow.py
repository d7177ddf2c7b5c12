"""Reflow (WCAG 2.1 SC 1.4.10): every page fits a 375 CSS px wide screen, in English and Dutch, without scrolling
sideways (the width of a phone, and of a 1280 px window at 400% zoom / a 750 px one at 200%). A wide table may scroll
inside its own region; the page itself may not. Every <details> is opened first (the dashboard's table is in one).
A full-page screenshot of each is saved as <name>-<lang>-375.png."""

import pytest
from playwright.sync_api import expect

from tests.e2e.a11y import screenshot
from tests.e2e.conftest import browser_page
from tests.e2e.test_accessibility import LOCALES, each_page, page_paths

pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.browser]

NARROW = {"width": 375, "height": 740}

# How wide the page is, and (to say what to fix) the elements whose right edge passes the screen's, outermost first
# (not those inside a region that scrolls or clips them: a wide table's, or a map's).
MEASURE = """() => {
  const width = window.innerWidth;
  const wider = [...document.body.querySelectorAll('*')].filter(el => {
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.right > width + 0.5 && !el.parentElement.closest('.table-scroll, .leaflet-container');
  });
  const outermost = wider.filter(el => !wider.includes(el.parentElement)).slice(0, 8);
  return {scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
          wider: outermost.map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                   + (el.classList.length ? '.' + [...el.classList].join('.') : '')
                   + ' right=' + Math.round(el.getBoundingClientRect().right))};
}"""


@pytest.mark.parametrize("language", LOCALES)
def test_every_page_fits_a_375_px_screen(live_server, demo, language):
    """Every page in one browser per language (as the axe run: the demo loads once), naming each page too wide."""
    paths = page_paths()
    problems = []
    with browser_page(LOCALES[language], viewport=NARROW) as page:
        for name, ready, _ in each_page(page, live_server.url, paths):
            # In the DOM rather than visible: a narrow layout may fold a part away (Redoc's menu goes behind a button).
            expect(page.locator(ready).first).to_be_attached(timeout=30_000)
            page.evaluate("() => document.querySelectorAll('details').forEach(details => { details.open = true; })")
            screenshot(page, name, f"{language}-375")
            measured = page.evaluate(MEASURE)
            if measured["scrollWidth"] > measured["innerWidth"]:
                problems.append(
                    f"{name} is {measured['scrollWidth'] - measured['innerWidth']} px wider than the screen "
                    f"({measured['scrollWidth']} > {measured['innerWidth']}); too wide: {measured['wider']}"
                )
    assert not problems, f"in {language}:\n" + "\n".join(problems)
