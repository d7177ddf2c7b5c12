"""The accessibility check the browser tests share: axe-core (vendored from npm, tests/e2e/vendor/axe-core/) run in
the page under the site's Content-Security-Policy, the page's declared language, and a full-page screenshot.

axe is put into the page with Playwright's `page.evaluate` (the DevTools protocol, as a test runner does), not as a
<script> element: the CSP allows no inline script, and the test does not switch the CSP off (bypass_csp) to pass.

Screenshots (and each run's full axe results, moderate and minor findings included) go to $TEST_ARTEFACTS (default:
test-artefacts/ in the repository, git-ignored)."""

import json
import os
from functools import cache
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TEST_ARTEFACTS") or PROJECT / "test-artefacts")
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# WCAG 2.0 and 2.1, levels A and AA, and Deque's best practices.
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
FAILING = ("serious", "critical")


@cache
def axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def run_axe(page) -> dict:
    """axe's results for the page as it is now (its violations, passes, incomplete, …)."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    return page.evaluate(
        """tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})""",
        TAGS,
    )


def describe(violations: list[dict]) -> str:
    """Violations as a reader can act on them: rule, impact, what it means, where (selectors), and the help page."""
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation['impact']}): {violation['help']} <{violation['helpUrl']}>")
        for node in violation["nodes"][:10]:
            target = " ".join(str(part) for part in node["target"])
            summary = "; ".join(line.strip() for line in node["failureSummary"].splitlines()[1:] if line.strip())
            lines.append(f"    at {target}: {summary[:300]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more")
    return "\n".join(lines)


def serious(results: dict) -> list[dict]:
    return [violation for violation in results["violations"] if violation["impact"] in FAILING]


def screenshot(page, name: str, language: str) -> Path:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTEFACTS / f"{name}-{language}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def assert_accessible(page, name: str, language: str, *, document_language: str | None = None) -> dict:
    """The page declares its language (`document_language`, by default the language asked for), axe finds no
    serious or critical violation of WCAG 2.1 A/AA or the best practices, and a full-page screenshot of it is saved
    as <TEST_ARTEFACTS>/<name>-<language>.png. Returns axe's results."""
    declared = page.evaluate("() => document.documentElement.getAttribute('lang')")
    expected = document_language or language
    screenshot(page, name, language)
    results = run_axe(page)
    (ARTEFACTS / f"{name}-{language}.axe.json").write_text(json.dumps(results["violations"], indent=1))
    problems = [f"<html lang={declared!r}>, expected {expected!r}"] if declared != expected else []
    if failing := serious(results):
        problems.append(f"axe finds\n{describe(failing)}")
    assert not problems, f"{name} in {language} ({page.url}): " + "\n".join(problems)
    return results
