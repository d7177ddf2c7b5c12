"""platform/ is a plain folder: `import platform` must stay the standard library's (ADR 0001)."""

import os
import platform
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
STDLIB = Path(sysconfig.get_paths()["stdlib"]).resolve()


def test_platform_folder_is_not_a_package():
    assert (PROJECT / "platform").is_dir()
    assert not (PROJECT / "platform" / "__init__.py").exists()


def test_import_platform_is_the_standard_library_under_pytest():
    assert Path(platform.__file__).resolve().parent == STDLIB
    assert platform.system()
    import uuid

    assert uuid.uuid4().version == 4


@pytest.mark.smoke
def test_import_platform_is_the_standard_library_under_manage_py():
    code = "import platform, uuid; print(platform.__file__); print(platform.system()); print(uuid.uuid4())"
    env = {**os.environ, "DJANGO_DEBUG": "true"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=PROJECT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    module_file, system, _ = result.stdout.strip().splitlines()[-3:]
    assert Path(module_file).resolve().parent == STDLIB
    assert system == platform.system()
