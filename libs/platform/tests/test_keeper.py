"""The keeper of a local process starts it again when it dies, and reports a crash loop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from icam_platform import platform
from icam_platform.infra.manager import Endpoints
from icam_platform.infra.process import free_port, is_alive, wait_until
from icam_platform.keeper import KeptState
from icam_platform.settings import InfraSettings

pytestmark = pytest.mark.integration

SLEEPER = [sys.executable, "-c", "import time; print('up', flush=True); time.sleep(600)"]
FAST = {"ICAM_KEEPER_FIRST_DELAY": "0.1", "ICAM_KEEPER_LONGEST_DELAY": "0.2"}


def keep(tmp_path: Path, command: list[str]) -> tuple[subprocess.Popen[bytes], Path, Path]:
    state, log = tmp_path / "p.state.json", tmp_path / "p.log"
    keeper = subprocess.Popen(
        [sys.executable, "-m", "icam_platform.keeper", "--name", "p", "--state", str(state),
         "--log", str(log), "--", *command],
        env={**os.environ, **FAST}, start_new_session=True,
    )  # fmt: skip
    return keeper, state, log


def state_of(path: Path) -> KeptState:
    found = KeptState.read(path)
    assert found is not None
    return found


def test_a_process_killed_with_sigkill_is_started_again_and_the_restart_is_counted(tmp_path: Path) -> None:
    keeper, state, log = keep(tmp_path, SLEEPER)
    try:
        assert wait_until(lambda: (KeptState.read(state) or KeptState("p")).pid is not None, timeout=10)
        first = state_of(state).pid
        assert first is not None
        os.kill(first, signal.SIGKILL)

        assert wait_until(lambda: state_of(state).pid not in (None, first), timeout=10)
        again = state_of(state)
        assert again.restarts == 1 and again.last_exit == "killed by signal SIGKILL"
        assert is_alive(again.pid or 0) and not again.crash_loop
        assert "killed by signal SIGKILL" in log.read_text()
    finally:
        keeper.terminate()
        keeper.wait(30)

    assert not state.exists()  # stopped on purpose: nothing left to report
    assert not is_alive(again.pid or 0)


def test_a_process_that_keeps_dying_at_once_is_reported_as_a_crash_loop(tmp_path: Path) -> None:
    keeper, state, _ = keep(tmp_path, [sys.executable, "-c", "raise SystemExit(3)"])
    try:
        assert wait_until(lambda: (KeptState.read(state) or KeptState("p")).crash_loop, timeout=20)
        looping = state_of(state)
    finally:
        keeper.terminate()
        keeper.wait(30)

    assert looping.crashes_in_a_row >= 3 and looping.last_exit == "exit code 3"


def test_icam_status_shows_a_crash_loop_with_the_last_lines_of_the_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    settings = InfraSettings.from_env(tmp_path / "icam")
    broken = platform.Service("broken", free_port(), "icam_nowhere.app:create_app")
    endpoints = Endpoints("127.0.0.1:1", "postgresql://nowhere/x", True, True)
    assert platform.start_service(broken, endpoints, settings, (broken,)) == "started"
    try:
        assert wait_until(
            lambda: (platform.kept_state(broken, settings) or KeptState("x")).crash_loop, timeout=60
        )
        line, ok = platform.describe_service(broken, settings)
    finally:
        platform.stop_service(broken, settings)

    assert not ok and line.startswith("CRASH LOOP")
    assert "icam_nowhere" in line  # uvicorn's own words, from the end of the log
    assert platform.describe_service(broken, settings)[0].startswith("stopped")
