"""SQL migrations: the kernel's tables first, then each service's `migrations/*.sql` in name order.

Each file runs once, in its own transaction, recorded in `schema_migrations`. Replicas starting
together are serialised by an advisory lock, so a file never runs twice concurrently.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import asyncpg
import structlog

from icam_kernel.db import keeps_session_state

log = structlog.get_logger(__name__)

# an arbitrary constant shared by every service: one migration run per database at a time
_MIGRATION_LOCK = 0x1CA4_0001

_CREATE_TABLE = """
create table if not exists schema_migrations (
    name       text primary key,
    applied_at timestamptz not null default now()
)
"""


def kernel_migrations() -> list[tuple[str, str]]:
    """The kernel's own SQL files as (tracked name, SQL)."""
    folder = resources.files("icam_kernel") / "sql"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".sql")), key=lambda f: f.name)
    return [(f"kernel/{f.name}", f.read_text()) for f in files]


def directory_migrations(directory: str | Path) -> list[tuple[str, str]]:
    folder = Path(directory)
    return [(f"{folder.name}/{f.name}", f.read_text()) for f in sorted(folder.glob("*.sql"))]


async def apply_migrations(pool: asyncpg.Pool, *sql_dirs: str | Path) -> list[str]:
    """Apply the kernel's and then each directory's pending SQL files; return the names applied."""
    pending = kernel_migrations()
    for directory in sql_dirs:
        pending += directory_migrations(directory)
    applied: list[str] = []
    async with pool.acquire() as conn:
        keeps_session_state(conn)  # the lock below is the session's: reset in full on release
        await conn.execute("select pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await conn.execute(_CREATE_TABLE)
            done = {r["name"] for r in await conn.fetch("select name from schema_migrations")}
            for name, sql in pending:
                if name in done:
                    continue
                async with conn.transaction():
                    await conn.execute(sql)
                    await conn.execute("insert into schema_migrations (name) values ($1)", name)
                applied.append(name)
                log.info("migration_applied", migration=name)
        finally:
            await conn.execute("select pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied
