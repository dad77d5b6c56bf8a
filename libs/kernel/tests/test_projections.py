"""Projections: inline and asynchronous read models, rebuild, read-your-writes, timers."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from icam_kernel.errors import StaleReadModel
from icam_kernel.events import RecordedEvent
from icam_kernel.projections import (
    ASYNC,
    INLINE,
    ProjectionRunner,
    rebuild,
    register_projection,
    wait_for_checkpoint,
)
from icam_kernel.store import EventStore, ExpectedVersion
from icam_kernel.testing import new_event
from icam_kernel.timers import Timer, TimerWorker, schedule

pytestmark = pytest.mark.integration

_UPSERT = """insert into stream_stats (stream_id, events, total, last_type) values ($1, 1, $2, $3)
on conflict (stream_id) do update set events = stream_stats.events + 1,
    total = stream_stats.total + excluded.total, last_type = excluded.last_type"""


class StreamStats:
    """Per stream: how many events, the sum of their `n`, the last type seen."""

    name = "stream_stats"
    event_types = frozenset({"InvitationSent", "InvitationCancelled"})
    tables = ("stream_stats",)
    schema_sql = """create table if not exists stream_stats (
        stream_id text primary key, events integer not null, total bigint not null,
        last_type text not null)"""

    async def apply(self, conn: asyncpg.Connection, event: RecordedEvent) -> None:
        await conn.execute(_UPSERT, event.stream_id, event.data.get("n", 0), event.event_type)

    async def apply_batch(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        await conn.executemany(_UPSERT, [(e.stream_id, e.data.get("n", 0), e.event_type) for e in events])


async def snapshot_of(conn: asyncpg.Connection) -> list[tuple[object, ...]]:
    return [tuple(r) for r in await conn.fetch("select * from stream_stats order by stream_id")]


async def test_a_rebuilt_projection_equals_the_live_one_after_thousands_of_events(db: asyncpg.Pool) -> None:
    projection = StreamStats()
    store = EventStore("t", inline_projections=[projection])
    async with db.acquire() as conn:
        await register_projection(conn, projection, INLINE)

    async def writer(w: int) -> None:
        async with db.acquire() as conn:
            for i in range(0, 3200, 4 * 20):
                kinds = ("InvitationSent", "InvitationCancelled", "Other")
                batch = [new_event(kinds[(i + j) % 3], n=i + j) for j in range(20)]
                await store.append(conn, f"s-{w}-{i % 37}", batch, ExpectedVersion.ANY)

    await asyncio.gather(*(writer(w) for w in range(4)))
    async with db.acquire() as conn:
        live = await snapshot_of(conn)
        await conn.execute("update stream_stats set total = -1")  # a bug corrupted the read model

    replayed = await rebuild(db, projection, store)

    async with db.acquire() as conn:
        assert replayed == 3200
        assert await snapshot_of(conn) == live and len(live) > 30


async def test_an_async_projection_catches_up_from_the_store_and_records_its_checkpoint(
    db: asyncpg.Pool,
) -> None:
    projection = StreamStats()
    store = EventStore("t")
    async with db.acquire() as conn:
        await register_projection(conn, projection, ASYNC)
        results = [
            await store.append(conn, f"s-{i % 3}", [new_event(n=i)], ExpectedVersion.ANY) for i in range(10)
        ]
    runner = ProjectionRunner(db, store, projection, batch_size=4)

    with pytest.raises(StaleReadModel) as stale:
        await wait_for_checkpoint(db, projection.name, results[-1].last_position, timeout=0.05)
    applied = [await runner.run_once() for _ in range(4)]
    await wait_for_checkpoint(db, projection.name, results[-1].last_position, timeout=0.05)

    assert (stale.value.wanted, stale.value.current) == (results[-1].last_position, 0)
    assert applied == [4, 4, 2, 0]
    async with db.acquire() as conn:
        assert sum(r[1] for r in await snapshot_of(conn)) == 10


async def test_reading_your_writes_returns_at_once_for_an_inline_projection(db: asyncpg.Pool) -> None:
    projection = StreamStats()
    store = EventStore("t", inline_projections=[projection])
    async with db.acquire() as conn:
        await register_projection(conn, projection, INLINE)
        result = await store.append(conn, "s", [new_event()], ExpectedVersion.NO_STREAM)

    # fresh at the first look: no wait at all (an async projection would be stale here)
    await wait_for_checkpoint(db, projection.name, result.last_position, timeout=0)


async def test_a_due_timer_fires_once_even_with_two_workers(db: asyncpg.Pool) -> None:
    fired: list[str] = []

    async def record_no_show(conn: asyncpg.Connection, timer: Timer) -> None:
        await asyncio.sleep(0.05)  # both workers are polling meanwhile
        fired.append(timer.payload["invitation_id"])

    async with db.acquire() as conn:
        await schedule(conn, "no_show", datetime.now(UTC) - timedelta(seconds=1), {"invitation_id": "inv-1"})
        await schedule(conn, "no_show", datetime.now(UTC) + timedelta(hours=1), {"invitation_id": "inv-2"})
    workers = [TimerWorker(db, {"no_show": record_no_show}) for _ in range(2)]

    taken = await asyncio.gather(*(w.run_due() for w in workers), *(w.run_due() for w in workers))

    assert fired == ["inv-1"] and sum(taken) == 1


async def test_a_timer_scheduled_before_a_restart_fires_after_it(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn, conn.transaction():
        await schedule(
            conn, "referral_deadline", datetime.now(UTC) + timedelta(milliseconds=200), {"r": "ref-1"}
        )
    # the process that scheduled it is gone; a new worker starts later
    fired: list[Timer] = []

    async def on_deadline(conn: asyncpg.Connection, timer: Timer) -> None:
        fired.append(timer)

    worker = TimerWorker(db, {"referral_deadline": on_deadline}, poll_interval=0.05)
    assert await worker.run_due() == 0
    task = asyncio.create_task(worker.run())
    async with asyncio.timeout(10):
        while not fired:
            await asyncio.sleep(0.02)
    await worker.run_due()  # a second pass fires nothing more
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert [t.payload for t in fired] == [{"r": "ref-1"}]


class HeldStats(StreamStats):
    """StreamStats whose first batch waits, inside the runner's transaction, until released."""

    def __init__(self) -> None:
        self.in_batch, self.release = asyncio.Event(), asyncio.Event()

    async def apply_batch(self, conn: asyncpg.Connection, events: Sequence[RecordedEvent]) -> None:
        if not self.in_batch.is_set():
            self.in_batch.set()
            await self.release.wait()
        await super().apply_batch(conn, events)


async def test_a_rebuild_while_the_runner_applies_a_batch_neither_deadlocks_nor_differs_from_a_replay(
    db: asyncpg.Pool,
) -> None:
    # given an async projection whose runner is in the middle of a batch (holding its checkpoint)
    projection, store = HeldStats(), EventStore("t")
    async with db.acquire() as conn:
        await register_projection(conn, projection, ASYNC)
        for i in range(60):
            await store.append(conn, f"s-{i % 7}", [new_event(n=i)], ExpectedVersion.ANY)
    runner = asyncio.create_task(ProjectionRunner(db, store, projection, batch_size=25).run())
    await asyncio.wait_for(projection.in_batch.wait(), 10)

    # when a rebuild reaches its swap meanwhile, and then the runner goes on
    rebuilding = asyncio.create_task(rebuild(db, projection, store))
    await _until_a_backend_waits_for_a_lock(db)
    projection.release.set()
    try:
        await asyncio.wait_for(rebuilding, 15)
        async with db.acquire() as conn:
            last = await store.append(conn, "s-late", [new_event(n=1000)], ExpectedVersion.ANY)
        await wait_for_checkpoint(db, projection.name, last.last_position, timeout=15)
        async with db.acquire() as conn:
            live = await snapshot_of(conn)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)

    # then the read model is what a fresh replay of the store gives
    await rebuild(db, projection, store)
    async with db.acquire() as conn:
        assert live == await snapshot_of(conn)
        assert sum(r[1] for r in live) == 61


async def _until_a_backend_waits_for_a_lock(db: asyncpg.Pool) -> None:
    async with asyncio.timeout(10), db.acquire() as conn:
        while not await conn.fetchval(
            """select count(*) from pg_stat_activity
               where datname = current_database() and wait_event_type = 'Lock'"""
        ):
            await asyncio.sleep(0.02)
