"""Projections: read-model tables kept from events, inline or asynchronously, and rebuildable.

A projection names the tables it owns and gives their DDL with unqualified names, so `rebuild`
can create fresh copies in a scratch schema, replay the store into them, and swap them in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Collection, Sequence
from typing import Protocol, runtime_checkable

import asyncpg
import structlog

from icam_kernel.db import Connection, keeps_session_state
from icam_kernel.errors import StaleReadModel
from icam_kernel.events import RecordedEvent
from icam_kernel.store import EventStore

log = structlog.get_logger(__name__)

INLINE = "inline"
ASYNC = "async"

_CAUGHT_UP = """
select c.mode, c.position,
       c.mode = 'inline' or coalesce((
           select (done.tx_id, done.global_position) >= (wanted.tx_id, wanted.global_position)
           from events done, events wanted
           where done.global_position = c.position and wanted.global_position = $2), false) as fresh
from projection_checkpoints c where c.projection = $1
"""


@runtime_checkable
class Projection(Protocol):
    """A read model: `schema_sql` creates `tables` (unqualified names, `if not exists`).

    Read-only members, so that plain class attributes of narrower types (`frozenset`, `tuple`)
    satisfy it.
    """

    @property
    def name(self) -> str: ...

    @property
    def event_types(self) -> Collection[str]: ...

    @property
    def tables(self) -> Sequence[str]: ...

    @property
    def schema_sql(self) -> str: ...

    async def apply(self, conn: Connection, event: RecordedEvent) -> None: ...


async def apply_events(conn: Connection, projection: Projection, events: Sequence[RecordedEvent]) -> None:
    """Apply the events the projection handles; an optional `apply_batch(conn, events)` method is
    used when present (rebuild and the runner then make one round trip per batch)."""
    wanted = [e for e in events if e.event_type in projection.event_types]
    apply_batch = getattr(projection, "apply_batch", None)
    if apply_batch is not None:
        if wanted:
            await apply_batch(conn, wanted)
        return
    for event in wanted:
        await projection.apply(conn, event)


async def register_projection(conn: Connection, projection: Projection, mode: str) -> None:
    """Create the projection's tables and its checkpoint row (idempotent)."""
    await conn.execute(projection.schema_sql)
    await conn.execute(
        """insert into projection_checkpoints (projection, mode) values ($1, $2)
           on conflict (projection) do update set mode = excluded.mode""",
        projection.name,
        mode,
    )


async def checkpoint(conn: Connection, name: str) -> int:
    value = await conn.fetchval("select position from projection_checkpoints where projection = $1", name)
    return int(value or 0)


async def wait_for_checkpoint(
    pool: asyncpg.Pool, projection: str, position: int, timeout: float = 2.0, poll: float = 0.01
) -> None:
    """Return once `projection` reflects the event at `position`; else raise `StaleReadModel`."""
    deadline = time.monotonic() + timeout
    while True:
        async with pool.acquire() as conn:
            row = await conn.fetchrow(_CAUGHT_UP, projection, position)
        if row is None:
            raise LookupError(f"no projection named {projection!r}")
        if row["fresh"]:
            return
        if time.monotonic() >= deadline:
            raise StaleReadModel(projection, position, row["position"])
        await asyncio.sleep(poll)


class ProjectionRunner:
    """Follows `store.read_all` from the projection's checkpoint; several replicas are safe
    because each batch runs under the checkpoint row's lock. Run supervised: a failing batch
    rolls back, and the restarted runner resumes from the checkpoint."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        store: EventStore,
        projection: Projection,
        *,
        batch_size: int = 500,
        idle_interval: float = 0.05,
    ) -> None:
        self.pool, self.store, self.projection = pool, store, projection
        self.batch_size = batch_size
        self.idle_interval = idle_interval

    async def run_once(self) -> int:
        """Apply one batch and advance the checkpoint in the same transaction; return its size."""
        async with self.pool.acquire() as conn, conn.transaction():
            after = await conn.fetchval(
                "select position from projection_checkpoints where projection = $1 for update",
                self.projection.name,
            )
            events = await self.store.read_all(conn, int(after), self.batch_size)
            if not events:
                return 0
            await apply_events(conn, self.projection, events)
            await conn.execute(
                "update projection_checkpoints set position = $2, updated_at = now() where projection = $1",
                self.projection.name,
                events[-1].global_position,
            )
            return len(events)

    async def run(self) -> None:
        async with self.pool.acquire() as conn:
            await register_projection(conn, self.projection, ASYNC)
        while True:
            if await self.run_once() < self.batch_size:
                await asyncio.sleep(self.idle_interval)


async def rebuild(
    pool: asyncpg.Pool, projection: Projection, store: EventStore, *, batch_size: int = 2000
) -> int:
    """Replay the whole store into fresh copies of the projection's tables, then swap them in.

    The copies live in a scratch schema placed first on the search path, so the projection's own
    unqualified SQL writes there. The swap runs under an exclusive lock on the live tables, after
    a last catch-up, so the result equals what the live projection holds. Returns events replayed.
    """
    scratch = "rebuild_" + "".join(c if c.isalnum() else "_" for c in projection.name.lower())
    async with pool.acquire() as conn:
        live = await conn.fetchval("select current_schema()")
        mode = await conn.fetchval(
            "select mode from projection_checkpoints where projection = $1", projection.name
        )
        await conn.execute(f'drop schema if exists "{scratch}" cascade; create schema "{scratch}"')
        keeps_session_state(conn)  # the search path below: reset in full on release
        await conn.execute(f'set search_path to "{scratch}", "{live}"')
        try:
            await conn.execute(projection.schema_sql)
            after, replayed = await _replay_ahead(pool, conn, projection, store, batch_size)
            async with conn.transaction():
                # in the runner's order: its checkpoint row, then the tables. The other order
                # deadlocks with a runner that holds the row and waits for a table (issue 18)
                await conn.execute(
                    "select 1 from projection_checkpoints where projection = $1 for update",
                    projection.name,
                )
                tables = ", ".join(f'"{live}"."{t}"' for t in projection.tables)
                await conn.execute(f"lock table {tables} in access exclusive mode")
                # inline writers are now blocked, so every visible event is in the live tables
                after, more = await _replay(
                    conn, projection, store, after, batch_size, gap_safe=mode != INLINE
                )
                for table in projection.tables:
                    await conn.execute(f'drop table "{live}"."{table}"')
                    await conn.execute(f'alter table "{scratch}"."{table}" set schema "{live}"')
                await conn.execute(
                    """insert into projection_checkpoints (projection, mode, position)
                       values ($1, $2, $3) on conflict (projection)
                       do update set position = excluded.position, updated_at = now()""",
                    projection.name,
                    mode or ASYNC,
                    after,
                )
        finally:
            await conn.execute("reset search_path")
            await conn.execute(f'drop schema if exists "{scratch}" cascade')
    log.info("projection_rebuilt", projection=projection.name, events=replayed + more)
    return replayed + more


async def _replay_ahead(
    pool: asyncpg.Pool, conn: Connection, projection: Projection, store: EventStore, batch: int
) -> tuple[int, int]:
    """`_replay` from the start, reading the next batch on a second connection while `conn`
    applies this one (the same batches in the same order, the reading overlapped with the
    writing); with a pool of one connection, `_replay` itself."""
    if pool.get_max_size() < 2:
        return await _replay(conn, projection, store, 0, batch, gap_safe=True)
    after, replayed = 0, 0
    async with pool.acquire() as reader:
        reading = asyncio.ensure_future(store.read_all(reader, after, batch))
        try:
            while events := await reading:
                after = events[-1].global_position
                reading = asyncio.ensure_future(store.read_all(reader, after, batch))
                async with conn.transaction():
                    await apply_events(conn, projection, events)
                replayed += len(events)
        finally:
            if not reading.done():
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)
    return after, replayed


async def _replay(
    conn: Connection,
    projection: Projection,
    store: EventStore,
    after: int,
    batch: int,
    *,
    gap_safe: bool,
) -> tuple[int, int]:
    replayed = 0
    while events := await store.read_all(conn, after, batch, gap_safe=gap_safe):
        async with conn.transaction():
            await apply_events(conn, projection, events)
        after, replayed = events[-1].global_position, replayed + len(events)
    return after, replayed
