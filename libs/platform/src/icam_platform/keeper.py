"""The keeper of one local process: starts it, and starts it again with backoff when it dies.

    python -m icam_platform.keeper --name case --state .icam/run/case.state.json \\
        --log .icam/logs/case.log -- python -m uvicorn --factory icam_case.app:create_app ...

`icam up` runs every service and the mailbox under a keeper of its own (its pid is the one in
`<name>.pid`). When the process exits without being asked to — a crash, a kill -9, an out-of-memory
kill — the keeper writes what happened to the log, waits (1 s, doubling up to 30 s; back to 1 s
after a run of a minute) and starts it again. A process that dies three times in a row within a
minute of its start is in a crash loop: the keeper keeps trying at the longest backoff, and
`icam status` says so with the log's last lines. SIGTERM (`icam down`) stops the process (SIGTERM,
then SIGKILL after 25 s) and the keeper with it. Only the standard library: a keeper must not fail
for the reasons its process does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import FrameType

FIRST_DELAY = float(os.environ.get("ICAM_KEEPER_FIRST_DELAY", "1"))
LONGEST_DELAY = float(os.environ.get("ICAM_KEEPER_LONGEST_DELAY", "30"))
STABLE_AFTER = 60.0  # a run this long ends a series of crashes
CRASH_LOOP = 3  # crashes in a row, each within STABLE_AFTER of its start
STOP_GRACE = 25.0


@dataclass
class KeptState:
    """What `icam status` reads (`<name>.state.json`, written on every change)."""

    name: str
    pid: int | None = None
    started_at: float | None = None
    restarts: int = 0
    crashes_in_a_row: int = 0
    last_exit: str | None = None
    crash_loop: bool = False
    restarting_at: float | None = None
    history: list[str] = field(default_factory=list)  # the last few exits, newest last

    @classmethod
    def read(cls, path: Path) -> KeptState | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def write(self, path: Path) -> None:
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(self)))
        partial.replace(path)  # readers see the old state or the new, never half of one


def describe_exit(code: int) -> str:
    return f"killed by signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def next_delay(crashes_in_a_row: int) -> float:
    return float(min(FIRST_DELAY * 2 ** max(crashes_in_a_row - 1, 0), LONGEST_DELAY))


class Keeper:
    def __init__(self, name: str, command: list[str], state_file: Path, log_file: Path) -> None:
        self.command, self.state_file, self.log_file = command, state_file, log_file
        self.state = KeptState(name)
        self.child: subprocess.Popen[bytes] | None = None
        self.stopping = False

    def note(self, line: str) -> None:
        with self.log_file.open("a") as log:
            log.write(json.dumps({"event": "keeper", "process": self.state.name, "message": line}) + "\n")

    def start(self) -> None:
        with self.log_file.open("ab") as log:
            self.child = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
            )
        self.state.pid, self.state.started_at, self.state.restarting_at = self.child.pid, time.time(), None
        self.state.write(self.state_file)

    def ended(self, code: int) -> float:
        """Record an exit nobody asked for; returns the delay before the next start."""
        ran = time.time() - (self.state.started_at or time.time())
        self.state.crashes_in_a_row = 1 if ran >= STABLE_AFTER else self.state.crashes_in_a_row + 1
        self.state.crash_loop = self.state.crashes_in_a_row >= CRASH_LOOP
        self.state.last_exit = describe_exit(code)
        self.state.history = [*self.state.history[-4:], f"{time.strftime('%H:%M:%S')} {self.state.last_exit}"]
        delay = next_delay(self.state.crashes_in_a_row)
        self.state.restarts += 1
        self.state.pid, self.state.restarting_at = None, time.time() + delay
        self.state.write(self.state_file)
        loop = " (crash loop)" if self.state.crash_loop else ""
        self.note(
            f"{self.state.name} ended: {self.state.last_exit} after {ran:.1f}s; restart in {delay:.0f}s{loop}"
        )
        return delay

    def stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signal.SIGTERM)

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)
        while not self.stopping:
            self.start()
            assert self.child is not None
            code = self.child.wait()
            if self.stopping:
                break
            self.sleep(self.ended(code))
        self.finish()
        return 0

    def sleep(self, delay: float) -> None:
        deadline = time.monotonic() + delay
        while not self.stopping and time.monotonic() < deadline:
            time.sleep(0.1)

    def finish(self) -> None:
        if self.child is not None and self.child.poll() is None:
            try:
                self.child.wait(STOP_GRACE)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()
        self.state_file.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(prog="icam-keeper", description=__doc__)
    cli.add_argument("--name", required=True)
    cli.add_argument("--state", required=True, type=Path)
    cli.add_argument("--log", required=True, type=Path)
    cli.add_argument("command", nargs=argparse.REMAINDER)
    args = cli.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        cli.error("give the command to keep after --")
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    return Keeper(args.name, command, args.state, args.log).run()


if __name__ == "__main__":
    sys.exit(main())
