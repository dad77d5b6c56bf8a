"""Kernel benchmark: the event store, relay and rebuild against their raw limits and a peer, side
by side in one run.

    uv run --group bench python bench/kernel/bench_kernel.py [--scale 1.0]

Uses the test servers (icam_testing.servers.provide): real PostgreSQL (fsync on) and Kafka.

* The limit is what the hardware does: plain inserts of the same payload, each writer on a
  dedicated asyncpg connection (no pool to acquire or reset), and raw aiokafka produce.
* The peer is the Python `eventsourcing` library (PostgreSQL persistence, psycopg) on the same
  server in the same run: what a team would pick instead of our kernel. A new aggregate there is
  one event, as an append here is.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import asyncpg
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from icam_kernel import db
from icam_kernel.events import RecordedEvent
from icam_kernel.migrations import apply_migrations
from icam_kernel.outbox import OutboxRelay
from icam_kernel.projections import rebuild, register_projection
from icam_kernel.store import EventStore
from icam_kernel.testing import new_event
from icam_platform.infra import postgres
from icam_testing import servers

try:  # the peer is in the `bench` dependency group
    from eventsourcing.application import Application as PeerApplication
    from eventsourcing.domain import Aggregate as PeerAggregate
    from eventsourcing.domain import event as peer_event
except ImportError:  # pragma: no cover - reported in the table
    PeerApplication = None

DATA = {"household_id": str(uuid.uuid4()), "office": "brussels", "language": "fr", "note": "x" * 120}
ROUNDS = 3
_UPSERT = """insert into bench_stats (stream_id, events) values ($1, 1)
on conflict (stream_id) do update set events = bench_stats.events + 1"""
# a batch in one statement: its events counted per stream (one row may not be updated twice)
_UPSERT_BATCH = """insert into bench_stats (stream_id, events)
select stream_id, count(*) from unnest($1::text[]) as s(stream_id) group by stream_id
on conflict (stream_id) do update set events = bench_stats.events + excluded.events"""


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
        await conn.execute(_UPSERT_BATCH, [e.stream_id for e in events])


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


async def raw_inserts(url: str, writers: int, per_writer: int) -> float:
    """The limit: each writer inserts the payload on a dedicated connection (no pool)."""
    payload = json.dumps(DATA)
    conns = [await asyncpg.connect(url) for _ in range(writers)]
    try:

        async def op(w: int, i: int) -> None:
            await conns[w].execute("insert into raw_rows (payload) values ($1)", payload)

        rate, _ = await timed_ops(writers, per_writer, op)
        return rate
    finally:
        for conn in conns:
            await conn.close()


if PeerApplication is not None:

    class PeerInvitation(PeerAggregate):  # type: ignore[misc]
        """The peer's aggregate: created by one event carrying the same data as our appends."""

        @peer_event("Sent")
        def __init__(self, household_id: str, office: str, language: str, note: str) -> None:
            self.household_id, self.office, self.language, self.note = household_id, office, language, note


def peer_saves(url: str, writers: int, per_writer: int) -> float | None:
    """The peer: new aggregates/s from `writers` threads sharing one application (its pool)."""
    if PeerApplication is None:
        return None
    parts = urlsplit(url)
    env = {
        "PERSISTENCE_MODULE": "eventsourcing.postgres",
        "POSTGRES_DBNAME": parts.path.lstrip("/"),
        # the test servers' PostgreSQL listens on a Unix socket named in the query (`?host=/dir`)
        "POSTGRES_HOST": parse_qs(parts.query).get("host", [parts.hostname or "127.0.0.1"])[0],
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or ""),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_POOL_SIZE": str(writers),
        "CREATE_TABLE": "y",
    }
    app = PeerApplication(env=env)

    def writer(_: int) -> None:
        for _ in range(per_writer):
            app.save(PeerInvitation(**DATA))

    try:
        started = time.perf_counter()
        with ThreadPoolExecutor(writers) as threads:
            list(threads.map(writer, range(writers)))
        return writers * per_writer / (time.perf_counter() - started)
    finally:
        app.close()


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
    task = asyncio.create_task(relay.run())
    # timed from the first acknowledged batch: the takeover before it (producer start, leader
    # lock, the read-back of the topic) is paid once per leader, as raw produce's start is untimed
    while relay.published == 0:  # noqa: ASYNC110 - polling a counter is the measurement
        await asyncio.sleep(0.001)
    started, first = time.perf_counter(), relay.published
    while relay.published < backlog:  # noqa: ASYNC110
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return backlog, (backlog - first) / elapsed


async def new_topic(bootstrap: str, name: str) -> str:
    """A fresh topic of 6 partitions, and its `-raw` twin for the produce limit."""
    topic = f"{name}-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, 6, 1), NewTopic(topic + "-raw", 6, 1)])
    finally:
        await admin.close()
    return topic


async def relay_rounds(pool: asyncpg.Pool, bootstrap: str, n: int) -> dict[str, list[float]]:
    """Batched appends, raw produce and the relay, in turns: each round appends a backlog to a
    topic of its own (batches of 50), produces as many records raw, then relays the backlog (a
    fresh topic: the relay's takeover check reads nothing back). Returns each figure per round."""
    rounds: dict[str, list[float]] = {"batches": [], "produce": [], "relay": [], "backlog": []}
    for _ in range(ROUNDS):
        topic = await new_topic(bootstrap, "bench-relay")
        store = EventStore(topic)

        async def batch_op(w: int, i: int, store: EventStore = store) -> None:
            async with pool.acquire() as conn:
                await store.append(conn, f"{store.topic}-{w}-{i}", [new_event(**DATA) for _ in range(50)], 0)

        batches, _ = await timed_ops(1, max(2, n // 10), batch_op)
        rounds["batches"].append(batches * 50)
        backlog = max(2, n // 10) * 50
        rounds["produce"].append(await raw_produce(bootstrap, topic + "-raw", backlog))
        relayed, rate = await relay_drain(pool, bootstrap, topic)
        rounds["relay"].append(rate)
        rounds["backlog"].append(relayed)
    return rounds


async def main(provided: servers.Servers, scale: float) -> None:
    n = max(100, int(2000 * scale))
    if True:
        name = f"bench_kernel_{uuid.uuid4().hex[:8]}"
        url = await postgres.ensure_database(provided.database_url, name)
        pool = await db.create_pool(url, min_size=8, max_size=8)  # the services' pool (icam_kernel.db)
        topic = await new_topic(provided.kafka_bootstrap, "bench-kernel")
        try:
            await apply_migrations(pool)
            async with pool.acquire() as conn:
                await conn.execute("create table raw_rows (id bigserial primary key, payload jsonb not null)")
                await register_projection(conn, BenchStats(), "async")
            await report(pool, url, provided.kafka_bootstrap, topic, n)
        finally:
            await pool.close()
            await postgres.drop_database(provided.database_url, name)


async def report(pool: asyncpg.Pool, url: str, bootstrap: str, topic: str, n: int) -> None:
    store = EventStore(topic)
    # the limit, the peer and the append take turns, ROUNDS times, each a share of the work: load
    # from elsewhere on the machine then falls on all three alike, and each figure is the median
    # of its rounds (a ratio of medians, beside the range of the rounds' own ratios)
    rounds: dict[str, list[float]] = {k: [] for k in ("raw1", "raw8", "peer1", "peer8", "one", "eight")}
    single_lat: list[float] = []
    eight_lat: list[float] = []
    m = max(50, n // ROUNDS)
    for r in range(ROUNDS):
        rounds["raw1"].append(await raw_inserts(url, 1, m))
        rate, lat = await store_appends(pool, store, 1, m, f"one{r}")
        rounds["one"].append(rate)
        single_lat += lat
        rounds["peer1"].append(await asyncio.to_thread(peer_saves, url, 1, m // 2) or 0.0)
        rounds["raw8"].append(await raw_inserts(url, 8, m // 4))
        rate, lat = await store_appends(pool, store, 8, m // 4, f"eight{r}")
        rounds["eight"].append(rate)
        eight_lat += lat
        rounds["peer8"].append(await asyncio.to_thread(peer_saves, url, 8, m // 8) or 0.0)
    raw1, raw8, single, eight = (statistics.median(rounds[k]) for k in ("raw1", "raw8", "one", "eight"))
    peer1 = statistics.median(rounds["peer1"]) or None
    peer8 = statistics.median(rounds["peer8"]) or None

    def spread(ours: str, theirs: str) -> str:
        ratios = [a / b for a, b in zip(rounds[ours], rounds[theirs], strict=True) if b]
        return f"{min(ratios):.2f}-{max(ratios):.2f}" if ratios else "-"

    await relay_drain(pool, bootstrap, topic)  # what the appends above left, not measured
    relayed = await relay_rounds(pool, bootstrap, n)
    batches, produced, relay_rate = (statistics.median(relayed[k]) for k in ("batches", "produce", "relay"))
    relay_ratios = [r / p for r, p in zip(relayed["relay"], relayed["produce"], strict=True)]
    backlog = int(sum(relayed["backlog"]))
    started = time.perf_counter()
    rebuilt = await rebuild(pool, BenchStats(), store)
    rebuild_rate = rebuilt / (time.perf_counter() - started)

    def against(rate: float, limit: float, peer: float | None, target: str) -> str:
        versus = f", {rate / peer:.1f}x peer" if peer else ", peer not installed"
        return f"{rate / limit:.2f} of limit{versus} (target {target})"

    rows = [
        ("limit: insert, 1 connection", f"{raw1:,.0f} rows/s", "dedicated connection", ""),
        ("limit: insert, 8 connections", f"{raw8:,.0f} rows/s", "one per writer", ""),
        ("peer: eventsourcing, 1", f"{peer1 or 0:,.0f} aggregates/s", "eventsourcing.postgres", ""),
        ("peer: eventsourcing, 8", f"{peer8 or 0:,.0f} aggregates/s", "8 threads, pool of 8", ""),
        (
            "append, 1 writer",
            f"{single:,.0f} appends/s",
            against(single, raw1, peer1, ">= 0.5, >= 3x"),
            f"rounds {spread('one', 'raw1')} of limit, {spread('one', 'peer1')}x peer; "
            f"p50 {pct(single_lat, 50):.2f} ms, p99 {pct(single_lat, 99):.2f} ms",
        ),
        (
            "append, 8 writers",
            f"{eight:,.0f} appends/s",
            against(eight, raw8, peer8, ">= 0.5, >= 3x"),
            f"rounds {spread('eight', 'raw8')} of limit, {spread('eight', 'peer8')}x peer; "
            f"p50 {pct(eight_lat, 50):.2f} ms, p99 {pct(eight_lat, 99):.2f} ms",
        ),
        ("append, batches of 50", f"{batches:,.0f} events/s", f"{batches / raw1:.1f}x limit 1", ""),
        ("limit: aiokafka produce", f"{produced:,.0f} msgs/s", "idempotent, acks=all", ""),
        (
            "outbox relay",
            f"{relay_rate:,.0f} events/s",
            f"{statistics.median(relay_ratios):.2f} of produce (target >= 0.7)",
            f"rounds {min(relay_ratios):.2f}-{max(relay_ratios):.2f}; {backlog:,} events in {ROUNDS} rounds",
        ),
        (
            "projection rebuild",
            f"{rebuild_rate:,.0f} events/s",
            f"{rebuild_rate / 50_000:.2f} of target 50,000",
            f"{rebuilt:,} events",
        ),
    ]
    for row in rows:
        print(f"{row[0]:<30}{row[1]:>22}  {row[2]:<44}{row[3]}")


if __name__ == "__main__":
    cli = argparse.ArgumentParser()
    cli.add_argument("--scale", type=float, default=1.0)
    with servers.provide() as provided:  # starts the servers outside the event loop
        asyncio.run(main(provided, cli.parse_args().scale))
