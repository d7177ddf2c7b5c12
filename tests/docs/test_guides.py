"""The guides' shell examples run, in order, against a live server loaded with the demo data."""

import os
import re
import shutil
import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

PROJECT = Path(__file__).resolve().parents[2]
GUIDES = ["docs/guides/vendor.md", "docs/guides/municipality.md", "docs/guides/researcher.md"]

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", markdown, flags=re.DOTALL)


@pytest.mark.parametrize("guide", GUIDES)
def test_the_guide_runs_against_the_demo(guide, live_server, settings, tmp_path):
    assert shutil.which("curl"), "curl is needed to run the guides"
    settings.DATA_DIR = tmp_path / "var"
    call_command("demo", stdout=StringIO())
    (tmp_path / "sensors" / "demo_data").mkdir(parents=True)
    shutil.copy(PROJECT / "sensors/demo_data/melbourne-sensor-locations.csv", tmp_path / "sensors/demo_data/")
    blocks = shell_blocks((PROJECT / guide).read_text())
    assert len(blocks) >= 5
    script = "set -euo pipefail\n" + "\n".join(blocks)
    result = subprocess.run(  # noqa: S603
        ["bash", "-c", script],  # noqa: S607
        cwd=tmp_path,
        env={**os.environ, "CDP": live_server.url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, f"{guide} failed:\n{result.stdout}\n{result.stderr}"
