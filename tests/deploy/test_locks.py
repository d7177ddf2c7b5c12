"""Production installs the runtime lock alone; the dev lock adds the test tools at the same pins."""

import re
import subprocess
import sys

from tests.deploy.conftest import PROJECT

PIN = re.compile(r"^([a-z0-9][a-z0-9._-]*)==(\S+)", re.MULTILINE)
TEST_TOOLS = {"pytest", "pytest-django", "playwright", "schemathesis", "hypothesis", "factory-boy", "ruff"}


def pins(lock: str) -> dict[str, str]:
    return dict(PIN.findall((PROJECT / lock).read_text()))


def test_the_runtime_lock_has_no_test_tools_and_the_dev_locks_pins():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert "django" in runtime and "gunicorn" in runtime and "whitenoise" in runtime
    assert not TEST_TOOLS & runtime.keys()
    assert TEST_TOOLS <= dev.keys()
    assert {name: dev.get(name) for name in runtime} == runtime
    assert "--hash=sha256:" in (PROJECT / "requirements.lock").read_text()


def lock_installed(lock_text: str, tmp_path) -> subprocess.CompletedProcess:
    lock = tmp_path / "some.lock"
    lock.write_text(lock_text)
    return subprocess.run(  # noqa: S603
        [sys.executable, PROJECT / "scripts/lib/lock_installed.py", lock], capture_output=True, text=True
    )


def test_bootstrap_knows_whether_the_environment_holds_every_pin(tmp_path):
    from importlib.metadata import version

    assert lock_installed((PROJECT / "requirements-dev.lock").read_text(), tmp_path).returncode == 0
    other = lock_installed(f"django=={version('django')}.1 \\\n    --hash=sha256:00\n", tmp_path)
    assert other.returncode == 1
    assert "installed: " in other.stdout
    absent = lock_installed("no-such-package-here==1.0\n", tmp_path)
    assert (absent.returncode, absent.stdout.strip()) == (1, "no-such-package-here==1.0 (not installed)")
