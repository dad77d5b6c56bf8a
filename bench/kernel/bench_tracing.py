"""What traces cost the kernel (ADR 0016): appends, the relay and a consumer, tracing off, on but
outside any trace (a background worker's work), and on inside a sampled trace, side by side.

    uv run python bench/kernel/bench_tracing.py [--scale 1.0]

Uses the test servers (icam_testing.servers.provide): real PostgreSQL (fsync on) and Kafka. With
tracing on, spans go through the batch processor and the redaction to an exporter that drops them
(no network: the cost measured is the process's own). "off" is measured first and again last.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import SpanKind, Tracer

from icam_kernel import tracing
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.inbox import Delivery, IdempotentConsumer
from icam_kernel.migrations import apply_migrations
from icam_kernel.outbox import OutboxRelay
from icam_kernel.store import EventStore
from icam_kernel.testing import new_event
from icam_platform.infra import postgres
from icam_testing import servers

DATA = {"household_id": str(uuid.uuid4()), "office": "brussels", "language": "fr"}
UPSTREAM = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


class Dropped(SpanExporter):
    """Counts the spans and drops them."""

    def __init__(self) -> None:
        self.spans = 0

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        self.spans += len(spans)
        return SpanExportResult.SUCCESS


async def appends(
    pool: asyncpg.Pool, store: EventStore, n: int, tracer: Tracer | None
) -> tuple[float, float]:
    """n appends by one writer, each as its own command (in a request's span given a tracer)."""
    latencies: list[float] = []
    started = time.perf_counter()
    for i in range(n):
        began = time.perf_counter()
        async with pool.acquire() as conn:
            if tracer is None:
                await store.append(conn, f"s-{uuid.uuid4()}", [new_event(**DATA, n=i)], 0)
            else:
                with tracer.start_as_current_span("POST /invitations", kind=SpanKind.SERVER):
                    await store.append(conn, f"s-{uuid.uuid4()}", [new_event(**DATA, n=i)], 0)
        latencies.append(time.perf_counter() - began)
    return n / (time.perf_counter() - started), statistics.median(latencies) * 1000


async def relay_drain(pool: asyncpg.Pool, bootstrap: str, topic: str) -> float:
    backlog = await pool.fetchval("select count(*) from outbox where topic = $1", topic)
    relay = OutboxRelay(pool, topic, bootstrap=bootstrap)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    while relay.published < backlog:  # noqa: ASYNC110 - polling a counter is the measurement
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return float(backlog / elapsed)


async def consumed(pool: asyncpg.Pool, n: int, traced: bool) -> float:
    """n records through the inbox, each handler one insert (with a `traceparent` when `traced`)."""

    async def handle(conn: Connection, event: RecordedEvent) -> None:
        await conn.execute("insert into bench_seen (event_id) values ($1)", event.event_id)

    consumer = IdempotentConsumer(pool, f"bench-{uuid.uuid4().hex[:6]}", handle)
    deliveries = []
    for i in range(n):
        event = RecordedEvent.from_envelope(_envelope(i))
        headers = [*event.headers(), *([("traceparent", UPSTREAM.encode())] if traced else [])]
        deliveries.append(Delivery("bench", 0, i, event.stream_id.encode(), event.to_json(), headers))
    started = time.perf_counter()
    for delivery in deliveries:
        await consumer.process(delivery)
    return n / (time.perf_counter() - started)


def _envelope(i: int) -> dict[str, object]:
    now = "2026-12-02T10:00:00+00:00"
    return {
        "event_id": str(uuid.uuid4()), "event_type": "InvitationSent", "event_version": 1,
        "stream_id": f"s-{i}", "stream_version": 1, "occurred_at": now, "recorded_at": now,
        "actor": {"id": "coach-1", "role": "coach", "organisation": None},
        "correlation_id": str(uuid.uuid4()), "causation_id": None, "data": {"n": i},
    }  # fmt: skip


async def measure(
    pool: asyncpg.Pool, bootstrap: str, n: int, label: str, tracer: Tracer | None = None
) -> list[str]:
    topic = f"bench-tracing-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 6, 1)])
    await admin.close()
    rate, p50 = await appends(pool, EventStore(topic), n, tracer)
    relayed = await relay_drain(pool, bootstrap, topic)
    handled = await consumed(pool, n, tracer is not None)
    return [label, f"{rate:,.0f}/s p50 {p50:.2f} ms", f"{relayed:,.0f} events/s", f"{handled:,.0f} records/s"]


async def main(provided: servers.Servers, scale: float) -> None:
    n = max(200, int(1000 * scale))
    name = f"bench_tracing_{uuid.uuid4().hex[:8]}"
    url = await postgres.ensure_database(provided.database_url, name)
    pool = await asyncpg.create_pool(url, min_size=2, max_size=4)
    assert pool is not None
    try:
        await apply_migrations(pool)
        await pool.execute("create table bench_seen (event_id uuid primary key)")
        await measure(pool, provided.kafka_bootstrap, n // 4, "warm-up")
        rows = [await measure(pool, provided.kafka_bootstrap, n, "off")]
        exporter = Dropped()
        provider = tracing.configure("bench", exporter=exporter)
        assert provider is not None
        rows.append(await measure(pool, provided.kafka_bootstrap, n, "on, outside any trace"))
        tracer = provider.get_tracer("bench")
        rows.append(await measure(pool, provided.kafka_bootstrap, n, "on, in a sampled trace", tracer))
        tracing.flush()
        tracing.disable()
        rows.append(await measure(pool, provided.kafka_bootstrap, n, "off again"))
    finally:
        await pool.close()
        await postgres.drop_database(provided.database_url, name)
    print(f"{'tracing':<26}{'append, 1 writer':<26}{'relay':<20}{'consumer (inbox)':<20}")
    for row in rows:
        print(f"{row[0]:<26}{row[1]:<26}{row[2]:<20}{row[3]:<20}")
    print(f"spans exported: {exporter.spans:,}")


if __name__ == "__main__":
    cli = argparse.ArgumentParser()
    cli.add_argument("--scale", type=float, default=1.0)
    with servers.provide() as provided:  # starts the servers outside the event loop
        asyncio.run(main(provided, cli.parse_args().scale))
