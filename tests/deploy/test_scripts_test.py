"""scripts/test removes the temporary data folder it made, also when it is interrupted."""

import os
import signal
import subprocess
import time

import pytest

from tests.deploy.conftest import PROJECT, fresh_shell_env

pytestmark = pytest.mark.deploy


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_test_run_leaves_no_data_folder(tmp_path, sig):
    env = fresh_shell_env(TMPDIR=str(tmp_path), DATABASE_URL=os.environ.get("DATABASE_URL", ""))
    process = subprocess.Popen(  # noqa: S603
        ["scripts/test", "-x"],  # noqa: S607
        cwd=PROJECT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list(tmp_path.glob("cdp-test-data.*")):
            assert process.poll() is None and time.monotonic() < deadline, "scripts/test made no data folder"
            time.sleep(0.1)
        time.sleep(2)  # into the smoke run
        os.killpg(process.pid, sig)  # as Ctrl-C or a cancelled CI job does: the whole process group
        try:
            assert process.wait(timeout=60) != 0
        except subprocess.TimeoutExpired:
            # Once seen on a loaded machine and not reproduced since: say which step went on after the signal.
            still = subprocess.run(  # noqa: S603
                ["ps", "-o", "pid,stat,etime,args", "-g", str(process.pid)],  # noqa: S607
                capture_output=True,
                text=True,
            ).stdout
            pytest.fail(f"scripts/test went on for 60 s after {sig.name}; still running:\n{still}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert list(tmp_path.glob("cdp-test-data.*")) == []
