"""Outbox relay: publishes the outbox's events to Kafka, at least once, never skipping one.

Rows stay in `outbox` until the broker acknowledged them, then the relay deletes them: there is
no position cursor that a late-committing transaction could fall behind (ADR 0003). Per-stream
order holds because appends to one stream commit in version order and a batch is read, sent and
acknowledged in position order. One relay per database publishes at a time: the leader holds a
session advisory lock on its own connection, and a standby takes over when that connection ends.

Faults (issue 18): an outage of the database or the broker is waited out with backoff; every
time a relay takes the lead, and after a batch failed, it first reads what the topic received since
its oldest waiting row and drops the rows already there, so a takeover after a crash between the
broker's acknowledgement and the delete publishes nothing twice. A row the broker refuses for good
(larger than the topic's limit) is moved aside to `outbox_refused` with the reason, counted in
`icam_outbox_refused_total`, and the rest of the topic flows.

Traces (ADR 0016): a row appended inside a trace keeps the appending span's `traceparent`; its
record is sent in a producer span, child of that one and ended at the broker's answer, whose
`traceparent` is a header of the record. Without tracing, or a row without a trace, nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka import errors as kafka_errors
from opentelemetry.trace import Span

from icam_kernel import codec, tracing
from icam_kernel.db import Connection, keeps_session_state
from icam_kernel.events import CONTENT_TYPE
from icam_kernel.failures import Backoff, describe, is_transient, safe_message
from icam_kernel.observability import (
    OUTBOX_BACKLOG,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PUBLISHED,
    OUTBOX_REFUSED,
    RELAY_LEADER,
)

log = structlog.get_logger(__name__)

_BATCH = """
select e.global_position, e.stream_id, e.stream_version, e.event_id, e.event_type, e.event_version,
       e.data::text as data, e.actor::text as actor, e.correlation_id, e.causation_id,
       e.occurred_at, e.recorded_at, o.traceparent
from outbox o join events e on e.global_position = o.position
where o.topic = $1 and o.position <> all($3::bigint[]) order by o.position limit $2
"""
_BACKLOG = """select count(*) as rows, coalesce(extract(epoch from now() - min(created_at)), 0)::float8 as age
from outbox where topic = $1"""

_OLDEST = "select min(created_at) from outbox where topic = $1"
# a record can only be a row's publication if it was produced after the row was queued (the
# producer stamps it; a second of skew between its clock and PostgreSQL's is allowed): an older
# record of the same event is an earlier copy (e.g. the clear one a sealing migration replaces)
_DROP_PUBLISHED = """
delete from outbox o using events e, unnest($2::uuid[], $3::timestamptz[]) as seen(event_id, at)
where o.topic = $1 and e.global_position = o.position and e.event_id = seen.event_id
  and seen.at >= o.created_at - interval '1 second'
"""
_REFUSE = """
with moved as (delete from outbox where position = $1 returning position, topic)
insert into outbox_refused (position, topic, reason, size_bytes)
select position, topic, $2, $3 from moved on conflict (position) do nothing
"""
# the broker stamps a record when it is sent, after its transaction began: read from a little earlier
_CLOCK_MARGIN = timedelta(seconds=60)

# after a refused record the idempotent producer's sequence is broken: a new producer is needed
_SPOILING = (
    kafka_errors.OutOfOrderSequenceNumber,
    kafka_errors.UnknownProducerId,
    kafka_errors.InvalidProducerEpoch,
    kafka_errors.ProducerFenced,
)

ProducerFactory = Callable[[], AIOKafkaProducer]
PublishedReader = Callable[[str, datetime], Awaitable[Mapping[str, datetime]]]


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
    """The envelope JSON, splicing the stored `actor` and `data` text instead of parsing and
    re-encoding them (orjson writes the times as `isoformat()` would)."""
    head = codec.dumps_bytes(
        {
            "event_id": str(row["event_id"]),  # asyncpg's own uuid type, unknown to orjson
            "event_type": row["event_type"],
            "event_version": row["event_version"],
            "stream_id": row["stream_id"],
            "stream_version": row["stream_version"],
            "occurred_at": row["occurred_at"],
            "recorded_at": row["recorded_at"],
            "actor": None,
            "correlation_id": row["correlation_id"],
            "causation_id": row["causation_id"],
        }
    )
    head = head.replace(b'"actor":null', b'"actor":' + row["actor"].encode(), 1)
    return b"".join((head[:-1], b',"data":', row["data"].encode(), b"}"))


class _NewProducer(Exception):
    """The producer cannot go on (a record was refused): start a fresh one and lead again."""


def published_reader(bootstrap: str) -> PublishedReader:
    """Reads the event ids a topic received since a time, each with when its latest record was
    produced (record timestamps), for `reconcile`."""

    async def read(topic: str, since: datetime) -> Mapping[str, datetime]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
        await consumer.start()
        try:
            return await _event_ids_since(consumer, topic, int(since.timestamp() * 1000))
        finally:
            await consumer.stop()

    return read


async def _event_ids_since(consumer: AIOKafkaConsumer, topic: str, since_ms: int) -> dict[str, datetime]:
    if topic not in await consumer.topics():
        return {}
    consumer._client.add_topic(topic)  # metadata of its partitions (topics() fetches names only)
    await consumer._client.force_metadata_update()
    partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
    consumer.assign(partitions)
    starts = await consumer.offsets_for_times(dict.fromkeys(partitions, since_ms))
    ends = await consumer.end_offsets(partitions)
    for tp in partitions:
        consumer.seek(tp, starts[tp].offset if starts.get(tp) else ends[tp])
    seen: dict[str, datetime] = {}
    deadline = asyncio.get_running_loop().time() + 30
    while [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
        if asyncio.get_running_loop().time() > deadline:
            raise TimeoutError(f"reading {topic} back took over 30 s")
        for records in (await consumer.getmany(*partitions, timeout_ms=500)).values():
            for r in records:
                produced = datetime.fromtimestamp(r.timestamp / 1000, UTC)
                event_id = dict(r.headers).get("event_id", b"").decode()
                seen[event_id] = max(produced, seen.get(event_id, produced))
    return seen


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


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
    """Run `await relay.run()` as a task in each replica (supervised); cancel it to stop."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        topic: str,
        *,
        bootstrap: str | None = None,
        producer_factory: ProducerFactory | None = None,
        published: PublishedReader | None = None,
        batch_size: int = 500,
        min_interval: float = 0.002,
        max_interval: float = 0.1,
        standby_interval: float = 0.5,
        backoff: Backoff | None = None,
    ) -> None:
        if producer_factory is None:
            if bootstrap is None:
                raise ValueError("give either bootstrap or producer_factory")
            producer_factory = default_producer(bootstrap)
        self.pool, self.topic = pool, topic
        self.producer_factory = producer_factory
        # what the topic already holds (None: a test producer without a broker to read back)
        self.published_since = published or (published_reader(bootstrap) if bootstrap else None)
        self.batch_size = batch_size
        self.min_interval, self.max_interval = min_interval, max_interval
        self.standby_interval = standby_interval
        self.backoff = backoff or Backoff(initial=0.2, ceiling=10.0)
        self.is_leader = False
        self.published = 0
        self.refused = 0
        self._wake = asyncio.Event()
        self._leader_gauge = RELAY_LEADER.labels(topic=topic)

    def wake(self) -> None:
        """Hint that events were just committed: skip the rest of the idle wait."""
        self._wake.set()

    async def run(self) -> None:
        """Stand by until leader, then publish until cancelled; outages are waited out here, any
        other failure ends the run (the supervisor restarts it)."""
        outages = 0
        while True:
            producer = self.producer_factory()
            try:
                await producer.start()
                while True:
                    await self._lead(producer)
                    outages = 0
                    await asyncio.sleep(self.standby_interval)
            except _NewProducer:
                continue
            except Exception as error:
                if not is_transient(error):
                    raise
                outages += 1
                await self._wait_out(error, outages)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(producer.stop(), 10)  # a broker that is down: do not wait

    async def _wait_out(self, error: Exception, outages: int) -> None:
        delay = self.backoff.delay(outages)
        log.warning("outbox_relay_waiting", topic=self.topic, retry_in_seconds=delay, **describe(error))
        await asyncio.sleep(delay)

    async def _lead(self, producer: AIOKafkaProducer) -> None:
        async with self.pool.acquire() as conn:
            keeps_session_state(conn)  # the leader's lock is the session's: reset in full on release
            key = await conn.fetchval("select hashtextextended('icam-outbox:' || $1, 0)", self.topic)
            if not await conn.fetchval("select pg_try_advisory_lock($1)", key):
                return
            self.is_leader = True
            self._leader_gauge.set(1)
            log.info("outbox_relay_leading", topic=self.topic)
            try:
                await self.reconcile(conn)
                await self._publish_loop(conn, producer)
            finally:
                self.is_leader = False
                self._leader_gauge.set(0)
                if not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.execute("select pg_advisory_unlock($1)", key))

    async def reconcile(self, conn: Connection) -> int:
        """Drop the waiting rows whose events the topic already received (a relay that died
        between the acknowledgement and the delete); returns how many. Reads the topic back
        from the oldest waiting row's time on, so it costs nothing when the outbox is empty."""
        oldest = await conn.fetchval(_OLDEST, self.topic)
        if oldest is None or self.published_since is None:
            return 0
        seen = await self.published_since(self.topic, oldest - _CLOCK_MARGIN)
        if not seen:
            return 0
        ids = [uuid.UUID(i) for i in seen if _is_uuid(i)]
        status = await conn.execute(_DROP_PUBLISHED, self.topic, ids, [seen[str(i)] for i in ids])
        dropped = int(status.split()[-1])
        if dropped:
            log.info("outbox_rows_already_published", topic=self.topic, rows=dropped)
        return dropped

    async def _publish_loop(self, conn: Connection, producer: AIOKafkaProducer) -> None:
        """Poll, backing off while idle; a wake-up (an append in this process, whose commit is
        a moment away) polls at once and starts the backoff again from the shortest interval."""
        interval = self.min_interval
        while True:
            published = await self.publish_pending(conn, producer)
            interval = self.min_interval if published else min(interval * 2, self.max_interval)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            if self._wake.is_set():
                interval = self.min_interval / 2  # doubled to the shortest if nothing has committed yet
            self._wake.clear()

    async def publish_pending(self, conn: Connection, producer: AIOKafkaProducer) -> int:
        """Publish everything the outbox holds, batch by batch; return how many were acknowledged.

        Each batch's rows are deleted only once Kafka acknowledged them. The next batch is read
        and enqueued while the previous one awaits its acknowledgements; it excludes the rows in
        flight instead of starting after them, so a row that commits late with a lower position
        is still picked up: there is no cursor to skip past. A transient failure of any row
        raises once the rest of its batch is settled; the next lead reconciles and resends.
        """
        total, in_flight, acks = 0, list[Any](), None
        while True:
            rows = await conn.fetch(_BATCH, self.topic, self.batch_size, [r[0] for r in in_flight])
            next_acks = await self._enqueue(producer, rows) if rows else None
            if acks is not None:
                total += await self._settle(conn, producer, in_flight, await acks)
            if next_acks is None:
                return total
            in_flight, acks = list(rows), next_acks

    async def _settle(
        self, conn: Connection, producer: AIOKafkaProducer, rows: Sequence[Any], results: Sequence[Any]
    ) -> int:
        """Delete what the broker acknowledged. A transient failure is raised (those rows stay, to
        be sent again); a refusal is tried again alone (the broker refuses a whole record batch
        when one record in it is too large) and what it still refuses is moved aside."""
        settled = list(zip(rows, results, strict=True))
        acked = [r[0] for r, result in settled if not isinstance(result, BaseException)]
        await conn.execute("delete from outbox where position = any($1::bigint[])", acked)
        self._count(len(acked))
        failed = [(r, result) for r, result in settled if isinstance(result, BaseException)]
        outage = next((e for _, e in failed if is_transient(e) or isinstance(e, _SPOILING)), None)
        if outage is not None:
            raise _NewProducer() if isinstance(outage, _SPOILING) else outage
        for row, _ in failed:
            await self._send_alone(conn, producer, row)
        return len(acked) + len(failed)

    async def _send_alone(self, conn: Connection, producer: AIOKafkaProducer, row: Any) -> None:
        """One row in a batch of its own: published, or refused and moved aside (and then the
        producer is replaced: its sequence numbers no longer match the broker's)."""
        try:
            await (await self._send(producer, row))
        except Exception as error:
            if is_transient(error):
                raise
            await self._refuse(conn, row, error)
            raise _NewProducer() from error
        await conn.execute("delete from outbox where position = $1", row[0])
        self._count(1)

    async def _refuse(self, conn: Connection, row: Any, error: BaseException) -> None:
        size = len(envelope_bytes(row))
        await conn.execute(_REFUSE, row[0], f"{type(error).__name__}: {safe_message(error, 500)}", size)
        self.refused += 1
        OUTBOX_REFUSED.labels(topic=self.topic).inc()
        log.error("outbox_event_refused", topic=self.topic, position=row[0], event_id=str(row["event_id"]),
                  event_type=row["event_type"], size_bytes=size, **describe(error))  # fmt: skip

    def _count(self, published: int) -> None:
        self.published += published
        OUTBOX_PUBLISHED.labels(topic=self.topic).inc(published)

    async def _enqueue(self, producer: AIOKafkaProducer, rows: Sequence[Any]) -> asyncio.Future[Any]:
        """Hand every row to the producer in position order (it batches per partition, keeping
        each stream's order); the returned future completes when all are settled, with each
        row's acknowledgement or failure (a row the producer refuses at once fails alone)."""
        acks: list[Awaitable[Any]] = []
        for r in rows:
            try:
                acks.append(await self._send(producer, r))
            except Exception as error:
                if is_transient(error):
                    raise
                acks.append(_failed(error))
        return asyncio.gather(*acks, return_exceptions=True)

    async def _send(self, producer: AIOKafkaProducer, row: Any) -> Awaitable[Any]:
        """Hand one row's record to the producer; the acknowledgement to await. A row appended in a
        trace is sent in a producer span of that trace, named in the record's `traceparent`."""
        headers = row_headers(row)
        traced = row["traceparent"]  # None unless appended in a trace (always, with tracing off)
        span = tracing.producing(self.topic, traced, _span_attributes(self.topic, row)) if traced else None
        if span is not None:
            headers.append((tracing.TRACEPARENT, (tracing.traceparent_of(span) or "").encode()))
        try:
            key = row["stream_id"].encode()
            ack = await producer.send(self.topic, envelope_bytes(row), key=key, headers=headers)
        except BaseException as error:
            if span is not None:
                tracing.ended(span, error)
            raise
        return ack if span is None else _ending(span, ack)

    async def backlog(self) -> tuple[int, float]:
        """(rows waiting, age in seconds of the oldest), also exported as metrics."""
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_BACKLOG, self.topic)
        assert row is not None
        OUTBOX_BACKLOG.labels(topic=self.topic).set(row["rows"])
        OUTBOX_OLDEST_AGE.labels(topic=self.topic).set(row["age"])
        return int(row["rows"]), float(row["age"])


def _span_attributes(topic: str, row: Any) -> dict[str, Any]:
    return {
        "messaging.system": "kafka",
        "messaging.destination.name": topic,
        "messaging.operation.type": "send",
        "messaging.kafka.message.key": row["stream_id"],
        "messaging.message.id": str(row["event_id"]),
        "icam.event_type": row["event_type"],
        "icam.position": row["global_position"],
    }


async def _ending(span: Span, ack: Awaitable[Any]) -> Any:
    """The acknowledgement, ending the record's producer span when the broker answered."""
    try:
        result = await ack
    except BaseException as error:
        tracing.ended(span, error)
        raise
    tracing.ended(span)
    return result


async def _failed(error: BaseException) -> BaseException:
    """A row's result when the producer refused it before sending (larger than it may send)."""
    return error
