"""Outbox relay: publishes the outbox's events to Kafka, at least once, never skipping one.

Rows stay in `outbox` until the broker acknowledged them, then the relay deletes them: there is
no position cursor that a late-committing transaction could fall behind (ADR 0003). Per-stream
order holds because appends to one stream commit in version order and a batch is read, sent and
acknowledged in position order. One relay per database publishes at a time: the leader holds a
session advisory lock on its own connection, and a standby takes over when that connection ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer

from icam_kernel.db import Connection
from icam_kernel.events import CONTENT_TYPE
from icam_kernel.observability import OUTBOX_BACKLOG, OUTBOX_OLDEST_AGE, OUTBOX_PUBLISHED, RELAY_LEADER

log = structlog.get_logger(__name__)

_BATCH = """
select e.global_position, e.stream_id, e.stream_version, e.event_id, e.event_type, e.event_version,
       e.data::text as data, e.actor::text as actor, e.correlation_id, e.causation_id,
       e.occurred_at, e.recorded_at
from outbox o join events e on e.global_position = o.position
where o.topic = $1 and o.position <> all($3::bigint[]) order by o.position limit $2
"""
_BACKLOG = """select count(*) as rows, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age
from outbox where topic = $1"""

ProducerFactory = Callable[[], AIOKafkaProducer]


def default_producer(bootstrap: str) -> ProducerFactory:
    """Idempotent, fully acknowledged producer; a short linger batches without adding latency."""
    return lambda: AIOKafkaProducer(
        bootstrap_servers=bootstrap,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=256 * 1024,
    )


def envelope_bytes(row: Any) -> bytes:
    """The envelope JSON, splicing the stored `data` text instead of parsing and re-encoding it."""
    head = json.dumps(
        {
            "event_id": str(row["event_id"]),
            "event_type": row["event_type"],
            "event_version": row["event_version"],
            "stream_id": row["stream_id"],
            "stream_version": row["stream_version"],
            "occurred_at": row["occurred_at"].isoformat(),
            "recorded_at": row["recorded_at"].isoformat(),
            "actor": None,
            "correlation_id": row["correlation_id"],
            "causation_id": row["causation_id"],
        },
        separators=(",", ":"),
    )
    head = head.replace('"actor":null', '"actor":' + row["actor"], 1)
    return (head[:-1] + ',"data":' + str(row["data"]) + "}").encode()


def row_headers(row: Any) -> list[tuple[str, bytes]]:
    return [
        ("event_type", row["event_type"].encode()),
        ("event_version", str(row["event_version"]).encode()),
        ("event_id", str(row["event_id"]).encode()),
        ("correlation_id", row["correlation_id"].encode()),
        ("causation_id", (row["causation_id"] or "").encode()),
        ("content-type", CONTENT_TYPE.encode()),
    ]


class OutboxRelay:
    """Run `await relay.run()` as a task in each replica; cancel it to stop."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        topic: str,
        *,
        bootstrap: str | None = None,
        producer_factory: ProducerFactory | None = None,
        batch_size: int = 500,
        min_interval: float = 0.002,
        max_interval: float = 0.025,
        standby_interval: float = 0.5,
    ) -> None:
        if producer_factory is None:
            if bootstrap is None:
                raise ValueError("give either bootstrap or producer_factory")
            producer_factory = default_producer(bootstrap)
        self.pool, self.topic = pool, topic
        self.producer_factory = producer_factory
        self.batch_size = batch_size
        self.min_interval, self.max_interval = min_interval, max_interval
        self.standby_interval = standby_interval
        self.is_leader = False
        self.published = 0
        self._wake = asyncio.Event()
        self._leader_gauge = RELAY_LEADER.labels(topic=topic)

    def wake(self) -> None:
        """Hint that events were just committed: skip the rest of the idle wait."""
        self._wake.set()

    async def run(self) -> None:
        """Stand by until leader, then publish until cancelled or the connection is lost."""
        producer = self.producer_factory()
        await producer.start()
        try:
            while True:
                try:
                    await self._lead(producer)
                except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                    log.warning("outbox_relay_connection_lost", topic=self.topic, error=str(error))
                await asyncio.sleep(self.standby_interval)
        finally:
            await producer.stop()

    async def _lead(self, producer: AIOKafkaProducer) -> None:
        async with self.pool.acquire() as conn:
            key = await conn.fetchval("select hashtextextended('icam-outbox:' || $1, 0)", self.topic)
            if not await conn.fetchval("select pg_try_advisory_lock($1)", key):
                return
            self.is_leader = True
            self._leader_gauge.set(1)
            log.info("outbox_relay_leading", topic=self.topic)
            try:
                await self._publish_loop(conn, producer)
            finally:
                self.is_leader = False
                self._leader_gauge.set(0)
                if not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.execute("select pg_advisory_unlock($1)", key))

    async def _publish_loop(self, conn: Connection, producer: AIOKafkaProducer) -> None:
        interval = self.min_interval
        while True:
            published = await self.publish_pending(conn, producer)
            interval = self.min_interval if published else min(interval * 2, self.max_interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            self._wake.clear()

    async def publish_pending(self, conn: Connection, producer: AIOKafkaProducer) -> int:
        """Publish everything the outbox holds, batch by batch; return how many were acknowledged.

        Each batch's rows are deleted only once Kafka acknowledged all of them. The next batch is
        read and enqueued while the previous one awaits its acknowledgements; it excludes the rows
        in flight instead of starting after them, so a row that commits late with a lower position
        is still picked up: there is no cursor to skip past.
        """
        total, in_flight, acks = 0, list[int](), None
        while True:
            rows = await conn.fetch(_BATCH, self.topic, self.batch_size, in_flight)
            next_acks = await self._enqueue(producer, rows) if rows else None
            if acks is not None:
                await acks
                await conn.execute("delete from outbox where position = any($1::bigint[])", in_flight)
                self._count(len(in_flight))
                total += len(in_flight)
            if next_acks is None:
                return total
            in_flight, acks = [r[0] for r in rows], next_acks

    def _count(self, published: int) -> None:
        self.published += published
        OUTBOX_PUBLISHED.labels(topic=self.topic).inc(published)

    async def _enqueue(self, producer: AIOKafkaProducer, rows: Sequence[Any]) -> asyncio.Future[Any]:
        """Hand every row to the producer in position order (it batches per partition, keeping
        each stream's order); the returned future completes when all are acknowledged."""
        acks = [
            await producer.send(
                self.topic, envelope_bytes(r), key=r["stream_id"].encode(), headers=row_headers(r)
            )
            for r in rows
        ]
        return asyncio.gather(*acks)

    async def backlog(self) -> tuple[int, float]:
        """(rows waiting, age in seconds of the oldest), also exported as metrics."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_BACKLOG, self.topic)
        assert row is not None
        OUTBOX_BACKLOG.labels(topic=self.topic).set(row["rows"])
        OUTBOX_OLDEST_AGE.labels(topic=self.topic).set(row["age"])
        return int(row["rows"]), float(row["age"])
