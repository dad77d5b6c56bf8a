"""Kernel benchmark: the event store, relay and rebuild against their raw limits, side by side.

    uv run python bench/kernel/bench_kernel.py [--scale 1.0]

Uses the test servers (icam_testing.servers.provide): real PostgreSQL (fsync on) and Kafka.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from icam_kernel.events import RecordedEvent
from icam_kernel.migrations import apply_migrations
from icam_kernel.outbox import OutboxRelay
from icam_kernel.projections import rebuild, register_projection
from icam_kernel.store import EventStore
from icam_kernel.testing import new_event
from icam_platform.infra import postgres
from icam_testing import servers

DATA = {"household_id": str(uuid.uuid4()), "office": "brussels", "language": "fr", "note": "x" * 120}
_UPSERT = """insert into bench_stats (stream_id, events) values ($1, 1)
on conflict (stream_id) do update set events = bench_stats.events + 1"""


class BenchStats:
    name = "bench_stats"
    event_types = frozenset({"InvitationSent"})
    tables = ("bench_stats",)
    schema_sql = (
        "create table if not exists bench_stats (stream_id text primary key, events integer not null)"
    )

    async def apply(self, conn: Any, event: RecordedEvent) -> None:
        await conn.execute(_UPSERT, event.stream_id)

    async def apply_batch(self, conn: Any, events: Sequence[RecordedEvent]) -> None:
        await conn.executemany(_UPSERT, [(e.stream_id,) for e in events])


async def timed_ops(
    writers: int, per_writer: int, op: Callable[[int, int], Awaitable[None]]
) -> tuple[float, list[float]]:
    """Run `op(writer, i)` from `writers` concurrent tasks; return (ops/s, latencies)."""
    latencies: list[float] = []

    async def writer(w: int) -> None:
        for i in range(per_writer):
            started = time.perf_counter()
            await op(w, i)
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return writers * per_writer / (time.perf_counter() - started), latencies


def pct(latencies: list[float], q: float) -> float:
    return statistics.quantiles(latencies, n=100)[int(q) - 1] * 1000


async def raw_inserts(pool: asyncpg.Pool, writers: int, per_writer: int) -> float:
    payload = json.dumps(DATA)

    async def op(w: int, i: int) -> None:
        async with pool.acquire() as conn:
            await conn.execute("insert into raw_rows (payload) values ($1)", payload)

    rate, _ = await timed_ops(writers, per_writer, op)
    return rate


async def store_appends(
    pool: asyncpg.Pool, store: EventStore, writers: int, per_writer: int, tag: str
) -> tuple[float, list[float]]:
    async def op(w: int, i: int) -> None:
        async with pool.acquire() as conn:
            # load-decide-append: each command knows the version it decided on
            await store.append(conn, f"{tag}-{w}-{i % 50}", [new_event(**DATA)], i // 50)

    return await timed_ops(writers, per_writer, op)


async def raw_produce(bootstrap: str, topic: str, count: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=2)
    await producer.start()
    value = json.dumps({"event_id": str(uuid.uuid4()), "data": DATA, "pad": "y" * 200}).encode()
    try:
        started = time.perf_counter()
        acks = [await producer.send(topic, value, key=f"s-{i % 500}".encode()) for i in range(count)]
        await asyncio.gather(*acks)
        return count / (time.perf_counter() - started)
    finally:
        await producer.stop()


async def relay_drain(pool: asyncpg.Pool, bootstrap: str, topic: str) -> tuple[int, float]:
    async with pool.acquire() as conn:
        backlog = await conn.fetchval("select count(*) from outbox")
    relay = OutboxRelay(pool, topic, bootstrap=bootstrap)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    while relay.published < backlog:  # noqa: ASYNC110 - polling a counter is the measurement
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return backlog, backlog / elapsed


async def main(provided: servers.Servers, scale: float) -> None:
    n = max(100, int(2000 * scale))
    if True:
        name = f"bench_kernel_{uuid.uuid4().hex[:8]}"
        url = await postgres.ensure_database(provided.database_url, name)
        pool = await asyncpg.create_pool(url, min_size=8, max_size=8)
        assert pool is not None
        topic = f"bench-kernel-{uuid.uuid4().hex[:8]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=provided.kafka_bootstrap)
        await admin.start()
        await admin.create_topics([NewTopic(topic, 6, 1), NewTopic(topic + "-raw", 6, 1)])
        await admin.close()
        try:
            await apply_migrations(pool)
            async with pool.acquire() as conn:
                await conn.execute("create table raw_rows (id bigserial primary key, payload jsonb not null)")
                await register_projection(conn, BenchStats(), "async")
            await report(pool, provided.kafka_bootstrap, topic, n)
        finally:
            await pool.close()
            await postgres.drop_database(provided.database_url, name)


async def report(pool: asyncpg.Pool, bootstrap: str, topic: str, n: int) -> None:
    store = EventStore(topic)
    raw1 = await raw_inserts(pool, 1, n)
    raw8 = await raw_inserts(pool, 8, n // 4)
    single, single_lat = await store_appends(pool, store, 1, n, "one")
    eight, eight_lat = await store_appends(pool, store, 8, n // 4, "eight")

    async def batch_op(w: int, i: int) -> None:
        async with pool.acquire() as conn:
            await store.append(conn, f"batch-{w}-{i}", [new_event(**DATA) for _ in range(50)], 0)

    batches, _ = await timed_ops(1, n // 20, batch_op)
    produced = await raw_produce(bootstrap, topic + "-raw", 20 * n)
    backlog, relay_rate = await relay_drain(pool, bootstrap, topic)
    started = time.perf_counter()
    rebuilt = await rebuild(pool, BenchStats(), store)
    rebuild_rate = rebuilt / (time.perf_counter() - started)

    rows = [
        ("raw insert, 1 connection", f"{raw1:,.0f} rows/s", "", ""),
        ("raw insert, 8 connections", f"{raw8:,.0f} rows/s", "", ""),
        (
            "append, 1 writer",
            f"{single:,.0f} appends/s",
            f"{single / raw1:.2f} of raw 1",
            f"p50 {pct(single_lat, 50):.2f} ms, p99 {pct(single_lat, 99):.2f} ms",
        ),
        (
            "append, 8 writers",
            f"{eight:,.0f} appends/s",
            f"{eight / raw8:.2f} of raw 8",
            f"p50 {pct(eight_lat, 50):.2f} ms, p99 {pct(eight_lat, 99):.2f} ms",
        ),
        ("append, batches of 50", f"{batches * 50:,.0f} events/s", f"{batches * 50 / raw1:.1f}x raw 1", ""),
        ("raw aiokafka produce", f"{produced:,.0f} msgs/s", "", ""),
        (
            "outbox relay",
            f"{relay_rate:,.0f} events/s",
            f"{relay_rate / produced:.2f} of raw produce",
            f"{backlog:,} events",
        ),
        ("projection rebuild", f"{rebuild_rate:,.0f} events/s", "target 20,000", f"{rebuilt:,} events"),
    ]
    for row in rows:
        print(f"{row[0]:<28}{row[1]:>20}  {row[2]:<24}{row[3]}")


if __name__ == "__main__":
    cli = argparse.ArgumentParser()
    cli.add_argument("--scale", type=float, default=1.0)
    with servers.provide() as provided:  # starts the servers outside the event loop
        asyncio.run(main(provided, cli.parse_args().scale))
