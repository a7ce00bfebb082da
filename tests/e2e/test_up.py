"""``hondana up`` (what ``make demo`` serves with) fails loudly when its worker dies."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_demo_mail import HONDANA, _hondana_free_env
from tests.support import free_port

pytestmark = pytest.mark.long


def test_up_exits_non_zero_with_the_workers_error_when_the_worker_dies(tmp_path: Path) -> None:
    # Issue 16: the API served on for as long as `make demo` ran, with the worker long dead.
    # A broker whose SQLAlchemy dialect does not exist kills the worker at start, in the
    # same create_engine() call as the original crash.
    env = {
        **_hondana_free_env(),
        "HONDANA_PORT": str(free_port()),
        "HONDANA_BROKER_URL": "sqla+nosuchdialect:///var/broker.db",
    }
    up = subprocess.Popen(  # noqa: S603 - our own CLI
        [*HONDANA, "up"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: nothing outlives a failed test
    )
    try:
        out, _ = up.communicate(timeout=180)
    except subprocess.TimeoutExpired:
        os.killpg(up.pid, signal.SIGKILL)
        out, _ = up.communicate()
        pytest.fail(
            "hondana up kept running with its worker dead:\n" + out.decode(errors="replace")
        )
    output = out.decode(errors="replace")
    assert up.returncode != 0, output
    assert "NoSuchModuleError" in output  # the worker's own error reaches the terminal
    assert "hondana up: the worker stopped" in output
