"""docs/indicators.md is generated from the indicator definitions and fails the build when stale."""

import dataclasses
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from datasets.indicators.definitions import INDICATORS
from datasets.management.commands.indicators_doc import render

PROJECT = Path(__file__).resolve().parents[2]
DOC = PROJECT / "docs" / "indicators.md"


def test_docs_indicators_md_is_generated_from_the_definitions():
    committed = DOC.read_text(encoding="utf-8")
    assert committed == render(list(INDICATORS.values())), (
        "run `manage.py indicators_doc` and commit docs/indicators.md"
    )


def test_the_page_follows_a_changed_definition():
    """A changed threshold, parameter or source changes the page, so the check above cannot pass on a stale page."""
    definitions = list(INDICATORS.values())
    flow = INDICATORS["flow"]
    changed = dataclasses.replace(flow, parameters=(dataclasses.replace(flow.parameters[1], default=83),))
    assert render([changed if d is flow else d for d in definitions]) != render(definitions)
    busyness = INDICATORS["busyness"]
    changed = dataclasses.replace(busyness, sources=busyness.sources[:1])
    assert render([changed if d is busyness else d for d in definitions]) != render(definitions)


def test_the_page_covers_every_indicator_and_the_privacy_rules():
    text = DOC.read_text(encoding="utf-8")
    for code, d in INDICATORS.items():
        assert f"\n## {code}\n" in text
        assert d.formula_symbols in text
        for source in d.sources:
            assert source in text
        for limitation in d.limitations:
            assert limitation in text
        for p in d.parameters:
            row = next(
                line for line in text.split(f"\n## {code}\n")[1].splitlines() if line.startswith(f"| `{p.name}`")
            )
            assert ("**local**" in row) == p.local
    for words in ("k-suppression", "Laplace", "Differencing", "/api/v1/indicators/{code}/values/"):
        assert words in text


def test_check_mode_fails_on_a_stale_page_and_passes_on_a_current_one(tmp_path):
    page = tmp_path / "indicators.md"
    out = StringIO()
    call_command("indicators_doc", output=page, stdout=out)
    assert page.read_text(encoding="utf-8") == DOC.read_text(encoding="utf-8")
    call_command("indicators_doc", "--check", output=page, stdout=out)
    assert "is current" in out.getvalue()
    page.write_text(page.read_text(encoding="utf-8").replace("82", "81"), encoding="utf-8")
    with pytest.raises(CommandError, match="stale") as stale:
        call_command("indicators_doc", "--check", output=page, stdout=out)
    assert stale.value.returncode == 1
    with pytest.raises(CommandError, match="stale"):
        call_command("indicators_doc", "--check", output=tmp_path / "missing.md", stdout=out)
