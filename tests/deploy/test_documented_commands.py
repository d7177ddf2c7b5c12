"""Every documented command works in a new shell after `scripts/run`, exactly as the docs write it.

A copy of the project (as a new checkout has it, with the shared .venv) is started with `scripts/run` on a
free port, in an environment with none of the test run's settings; then the README's and the quickstart's
shell blocks and the guides' `manage.py` commands run in another new shell, as written (only the port
differs). The guides' curl examples are run by tests/docs against a live server.
"""

import re
import subprocess

import pytest

from tests.deploy.conftest import PROJECT, Server, free_port, fresh_shell_env, project_copy

pytestmark = pytest.mark.deploy

# Blocks that start the platform or the test suite: the test does the first itself, and is run by the second.
NOT_RUN = re.compile(r"^\s*(scripts/run|scripts/test|make )", re.MULTILINE)


def shell_blocks(markdown: str) -> list[str]:
    return [block for block in re.findall(r"```sh\n(.*?)```", markdown, flags=re.DOTALL) if not NOT_RUN.search(block)]


def manage_commands(markdown: str) -> list[str]:
    """`$ .venv/bin/python manage.py ...` lines of console blocks, with their continuation lines."""
    commands = []
    for block in re.findall(r"```console\n(.*?)```", markdown, flags=re.DOTALL):
        for command in re.findall(r"^\$ (.*?(?:\\\n.*?)*)$", block, flags=re.MULTILINE):
            if "manage.py" in command:
                commands.append(command)
    return commands


def inline_command(markdown: str, start: str) -> str:
    match = re.search(rf"`({re.escape(start)}[^`]*)`", markdown)
    assert match, f"the docs no longer show `{start} ...`"
    return " ".join(match[1].split())


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    project = project_copy(tmp_path_factory.mktemp("checkout"))
    port = free_port()
    server = Server(
        ["scripts/run"],
        cwd=project,
        env=fresh_shell_env(HOST="127.0.0.1", PORT=str(port)),
        log=project.parent / "run.log",
    )
    try:
        server.wait_until_up(f"http://127.0.0.1:{port}/healthz", timeout=300)
        yield project, port
    finally:
        server.stop()


def run_in_new_shell(project, port: int, script: str) -> subprocess.CompletedProcess:
    script = script.replace("127.0.0.1:8000", f"127.0.0.1:{port}")
    return subprocess.run(  # noqa: S603
        ["bash", "-c", "set -euo pipefail\n" + script],  # noqa: S607
        cwd=project,
        env=fresh_shell_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_scripts_run_writes_the_env_file_for_later_shells(demo):
    project, _ = demo
    env_file = project / ".env"
    assert env_file.stat().st_mode & 0o077 == 0  # it holds the secret key: the owner's alone
    text = env_file.read_text()
    assert "DJANGO_DEBUG=true" in text
    assert re.search(r"^DJANGO_SECRET_KEY=\S{50,}$", text, flags=re.MULTILINE)
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=PROJECT)  # noqa: S607
    assert ignored.returncode == 0, ".env must be git-ignored"


def test_the_readme_and_quickstart_commands_run_as_written(demo):
    project, port = demo
    readme, quickstart = (PROJECT / "README.md").read_text(), (PROJECT / "docs/quickstart.md").read_text()
    blocks = shell_blocks(readme) + shell_blocks(quickstart)
    assert len(blocks) >= 5
    assert any("tail -n 1" in block for block in blocks)
    # What the blocks leave behind: the key from `apikey create ... | tail -n 1` is a working key.
    check = (
        'test -n "$KEY"\ncurl -sf -H "Authorization: Api-Key $KEY" http://127.0.0.1:8000/api/v1/me/ | grep -q telvision'
    )
    result = run_in_new_shell(project, port, "\n".join(blocks) + "\n" + check)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"


def test_the_guides_manage_py_commands_run_as_written(demo):
    project, port = demo
    guide = (PROJECT / "docs/guides/municipality.md").read_text()
    import_sensors = inline_command(guide, "manage.py import_sensors").replace(
        "FILE", "sensors/demo_data/melbourne-sensor-locations.csv"
    )
    pushes = manage_commands(guide)
    assert any("push_melbourne_counts" in command for command in pushes)
    script = "\n".join(
        [
            "source var/demo-credentials.env",
            # The guide's MELB, found the way the README finds a dataset.
            'MELB=$(curl -s "http://127.0.0.1:8000/api/v1/public/datasets/?owner=city-of-melbourne"'
            " | python3 -c \"import json,sys; print(json.load(sys.stdin)['results'][0]['id'])\")",
            f".venv/bin/python {import_sensors}",
            *pushes,
        ]
    )
    result = run_in_new_shell(project, port, script)
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
