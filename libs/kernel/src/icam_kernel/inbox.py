"""Idempotent consumer: inbox row, handler and commit in one transaction; offset after commit.

FastStream's Kafka subscribers acknowledge FIRST by default (`AckPolicy.ACK_FIRST`: auto-commit on,
at most once). `subscribe` registers a batch subscriber with `ack_policy=AckPolicy.NACK_ON_ERROR`,
which makes FastStream turn auto-commit off (`KafkaSubscriberConfig`: `enable_auto_commit =
ack_first`) and commit the offsets only after the handler returned for the whole batch; an
exception that escapes (the database is unreachable) seeks every partition back to the batch's
first record, so nothing unhandled is ever committed past.

Two kinds of failure (`icam_kernel.failures`): an outage of the database or the broker is waited
out in place with backoff, for as long as it lasts up to `RetryPolicy.outage_ceiling` seconds, and
then escapes (the batch is rewound and delivered again) — it is never dead-lettered. A failure of
the handler itself is retried `attempts` times, then dead-lettered (`<topic>.dlq` and the
`dead_letters` table), and the offset moves on; later events of the same stream are parked behind
the dead letter until it is resolved (`icam_kernel.sequencing`).

Traces (ADR 0016): a record whose headers carry a `traceparent` is handled in a consumer span,
child of the relay's producer span; what the handler appends continues that trace.
"""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import structlog
from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry.trace import SpanKind

from icam_contracts.envelope import (
    HEADER_DLQ_CONSUMER_GROUP,
    HEADER_DLQ_ERROR,
    HEADER_DLQ_FAILED_AT,
    HEADER_DLQ_ORIGINAL_OFFSET,
    HEADER_DLQ_ORIGINAL_PARTITION,
    HEADER_DLQ_ORIGINAL_TOPIC,
)
from icam_kernel import codec, sealing, sequencing, tracing
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.failures import describe, is_transient
from icam_kernel.observability import (
    CONSUMER_LAG,
    DEAD_LETTERS,
    HANDLER_SECONDS,
    PARKED_EVENTS,
    bound_context,
)
from icam_kernel.redaction import describe_error
from icam_kernel.sealing import Vault
from icam_kernel.sequencing import Verdict, record_dead_letter
from icam_kernel.supervision import Policy, Worker
from icam_kernel.upcasting import Upcaster

log = structlog.get_logger(__name__)

Handler = Callable[[Connection, RecordedEvent], Awaitable[None]]
DeadLetterPublisher = Callable[[str, bytes | None, bytes, dict[str, str]], Awaitable[None]]


class Outcome(enum.Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    NOT_OF_INTEREST = "not_of_interest"
    PARKED = "parked"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One Kafka record, as the consumer got it (`parked_id`: released from `parked_events`)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = ()
    parked_id: int | None = None

    def header(self, name: str) -> str | None:
        found = next((value for key, value in self.headers if key == name), None)
        return found.decode(errors="replace") if found is not None else None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts before dead-lettering, and the backoff between them (doubling up to `max_backoff`);
    an outage is waited out with the same backoff for up to `outage_ceiling` seconds per record
    before the batch is rewound (it is then delivered again: never dead-lettered)."""

    attempts: int = 5
    backoff: float = 0.2
    max_backoff: float = 5.0
    outage_ceiling: float = 240.0  # below the broker's max poll interval (300 s)

    def delay(self, attempt: int) -> float:
        return float(min(self.backoff * 2 ** (attempt - 1), self.max_backoff))


class IdempotentConsumer:
    """Wraps `handler(conn, event)` so that each event has exactly one effect in this database."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        consumer_name: str,
        handler: Handler,
        *,
        dead_letters: DeadLetterPublisher | None = None,
        retry: RetryPolicy | None = None,
        upcaster: Upcaster | None = None,
        event_types: Collection[str] | None = None,
        watch: Worker | None = None,
        vault: Vault | None = None,
        lanes: int = 4,
    ) -> None:
        self.pool, self.name, self.handler = pool, consumer_name, handler
        self.lanes = lanes  # partitions of a batch handled at once (each holds a connection)
        self.vault = vault
        self.publish_dead_letter = dead_letters
        self.retry = retry or RetryPolicy()
        self.upcaster = upcaster
        # the types the handler acts on (None: all); others are passed over without a transaction
        self.event_types = frozenset(event_types) if event_types is not None else None
        # how the consumer's batches fare, for supervision (restarts counted, crash loop seen)
        self.watch = watch or Worker(f"consumer:{consumer_name}", "", Policy())

    async def parse(self, value: bytes) -> RecordedEvent:
        """The event of a record: personal data opened (the process's vault), then upcast. A seal
        that does not open is poison (dead letter); an unreachable key custodian is not (retry)."""
        event = RecordedEvent.from_envelope(codec.loads(value))
        vault = self.vault or sealing.installed()
        if vault is not None:
            (event,) = await vault.open_events([event])
        if self.upcaster is None:
            return event
        return event.with_payload(*self.upcaster.upcast(event.event_type, event.event_version, event.data))

    async def handle_once(self, event: RecordedEvent, delivery: Delivery | None = None) -> Outcome:
        """Inbox row + handler in one transaction; a duplicate is skipped without effect, and an
        event of a stream held back by a dead letter is parked instead (sequencing policy)."""
        key = _sequence_key(delivery, event)
        parked_id = delivery.parked_id if delivery else None
        async with self.pool.acquire() as conn, conn.transaction():
            verdict = await sequencing.admit(conn, self.name, key, event.event_id, parked_id)
            if verdict is Verdict.DUPLICATE:
                return Outcome.DUPLICATE
            if verdict is Verdict.PARK:
                if parked_id is None:
                    await self._park(conn, key, event, delivery)
                return Outcome.PARKED
            await self.handler(conn, event)
        return Outcome.HANDLED

    async def _park(
        self, conn: Connection, key: str, event: RecordedEvent, delivery: Delivery | None
    ) -> None:
        where = (delivery.topic, delivery.partition, delivery.offset) if delivery else ("", -1, -1)
        value = delivery.value if delivery else event.to_json()
        headers = {k: v.decode(errors="replace") for k, v in delivery.headers} if delivery else {}
        await sequencing.park(conn, self.name, key, event.event_id, event.event_type, where, value, headers)
        PARKED_EVENTS.labels(self.name).inc()
        log.warning("event_parked", stream_id=key, event_type=event.event_type)

    async def process(self, delivery: Delivery) -> Outcome:
        """Handle one record: wait out outages, retry a failing handler, then dead-letter it.
        Raises only when an outage outlasts the policy's ceiling (the batch is then rewound)."""
        if not self.interested_in(delivery):
            return Outcome.NOT_OF_INTEREST
        if not tracing.enabled():
            return await self._process(delivery)
        traceparent = delivery.header(tracing.TRACEPARENT)
        name = f"process {delivery.topic}"
        attributes = self._span_attributes(delivery)
        with tracing.continued(traceparent, name, kind=SpanKind.CONSUMER, attributes=attributes) as span:
            outcome = await self._process(delivery)
            if span is not None:
                span.set_attribute("icam.outcome", outcome.value)
            return outcome

    def _span_attributes(self, delivery: Delivery) -> dict[str, str | int]:
        return {
            "messaging.system": "kafka",
            "messaging.destination.name": delivery.topic,
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": self.name,
            "messaging.destination.partition.id": str(delivery.partition),
            "messaging.kafka.message.offset": delivery.offset,
            "messaging.message.id": delivery.header("event_id") or "",
            "icam.consumer": self.name,
            "icam.event_type": delivery.header("event_type") or "",
        }

    async def _process(self, delivery: Delivery) -> Outcome:
        waited, outage_since = 0, None
        while True:
            try:
                event = await self.parse(delivery.value)
                break
            except (ValueError, KeyError, TypeError) as malformed:  # a seal that does not open too
                return await self._dead_letter(delivery, None, malformed, attempts=1)
            except Exception as error:  # the key custodian unreachable: wait, never dead-letter
                if not is_transient(error):
                    raise
                outage_since = outage_since or time.monotonic()
                waited += 1
                await self._wait_out(error, waited, outage_since)
        with bound_context(
            correlation_id=event.correlation_id, event_id=str(event.event_id), consumer=self.name
        ):
            return await self._with_retries(delivery, event)

    async def _with_retries(self, delivery: Delivery, event: RecordedEvent) -> Outcome:
        failures, waited, outage_since = 0, 0, None
        while True:
            started = time.perf_counter()
            try:
                outcome = await self.handle_once(event, delivery)
            except Exception as error:
                HANDLER_SECONDS.labels(self.name, "error").observe(time.perf_counter() - started)
                if is_transient(error):
                    outage_since = outage_since or time.monotonic()
                    waited += 1
                    await self._wait_out(error, waited, outage_since)
                    continue
                failures += 1
                log.warning("handler_failed", attempt=failures, **describe(error))
                if failures >= self.retry.attempts:
                    return await self._dead_letter(delivery, event, error, attempts=failures)
                await asyncio.sleep(self.retry.delay(failures))
            else:
                HANDLER_SECONDS.labels(self.name, outcome.value).observe(time.perf_counter() - started)
                return outcome

    async def _wait_out(self, error: Exception, waited: int, since: float) -> None:
        """Back off while the infrastructure is down; past the ceiling, let the batch be rewound."""
        if time.monotonic() - since >= self.retry.outage_ceiling:
            raise error
        delay = self.retry.delay(waited)
        log.warning(
            "handler_waiting_for_infrastructure", attempt=waited, retry_in_seconds=delay, **describe(error)
        )
        await asyncio.sleep(delay)

    async def _dead_letter(
        self, delivery: Delivery, event: RecordedEvent | None, error: BaseException, *, attempts: int
    ) -> Outcome:
        headers = {
            **{k: v.decode(errors="replace") for k, v in delivery.headers},
            **dead_letter_headers(self.name, delivery, error, attempts),
        }
        if self.publish_dead_letter is not None:
            await self.publish_dead_letter(f"{delivery.topic}.dlq", delivery.key, delivery.value, headers)
        await record_dead_letter(self.pool, self.name, delivery, event, headers)
        DEAD_LETTERS.labels(self.name).inc()
        log.error(
            "event_dead_lettered",
            topic=delivery.topic,
            offset=delivery.offset,
            error_type=headers["error_type"],
            attempts=attempts,
        )
        return Outcome.DEAD_LETTERED

    def interested_in(self, delivery: Delivery) -> bool:
        """Whether the handler acts on this record's type, read from the `event_type` header.

        A record of another type has no effect to protect, so it needs no inbox row: skipping its
        transaction is what keeps a consumer of a busy topic ahead of it. A record without the
        header is parsed as usual."""
        if self.event_types is None:
            return True
        event_type = delivery.header("event_type")
        return event_type is None or event_type in self.event_types

    async def _handle_batch(self, message: KafkaMessage) -> None:
        """A batch's partitions side by side, each in its own order (Kafka orders only within a
        partition, and a stream's events share one): a consumer then waits on the database for
        several records at once instead of one, which is what kept it behind under load (issue
        16). Every lane runs to its end before a failure is raised, so that nothing is cut off
        half-way (a dead letter written but not published); the batch is then rewound and the
        inbox skips what was handled."""
        records = message.raw_message
        await self.handle_records(records if isinstance(records, tuple) else (records,), message.consumer)

    async def handle_records(self, records: Sequence[Any], consumer: object = None) -> None:
        """Handle one fetch's records (aiokafka `ConsumerRecord`s), as `_handle_batch` says."""
        lanes = _lanes(records)
        if len(lanes) == 1:
            await self._handle_lane(consumer, lanes[0])
            return
        gate = asyncio.Semaphore(self.lanes)

        async def lane(records: list[Any]) -> None:
            async with gate:
                await self._handle_lane(consumer, records)

        results = await asyncio.gather(*(lane(r) for r in lanes), return_exceptions=True)
        failure = next((r for r in results if isinstance(r, BaseException)), None)
        if failure is not None:
            raise failure

    async def _handle_lane(self, consumer: object, records: Sequence[Any]) -> None:
        for record in records:
            delivery = Delivery(
                record.topic, record.partition, record.offset, record.key, record.value, record.headers
            )
            await self.process(delivery)
            self.record_lag(consumer, record.topic, record.partition, record.offset)

    def record_lag(self, consumer: object, topic: str, partition: int, offset: int) -> None:
        """Set `icam_consumer_lag` from the consumer's last fetched high watermark, when it has one
        (aiokafka's does; FastStream's test consumer does not)."""
        highwater = getattr(consumer, "highwater", None)
        if highwater is None:
            return
        try:
            end = highwater(TopicPartition(topic, partition))
        except AssertionError:  # the partition was revoked meanwhile: a metric never fails a record
            return
        if isinstance(end, int):
            CONSUMER_LAG.labels(self.name, topic, str(partition)).set(max(end - offset - 1, 0))

    def subscribe(
        self,
        broker: KafkaBroker,
        topic: str,
        *,
        group_id: str | None = None,
        max_records: int = 200,
        fetch_wait_ms: int = 10,
        **options: Any,
    ) -> Any:
        """Register on a FastStream broker: commit after the transactions, never before.

        Records come in batches of whatever has arrived (up to `max_records`); each record still
        gets its own transaction (inbox row + handler), in partition order (up to `lanes`
        partitions at once), and the offsets of the batch are committed once, after the last one.
        A batch that fails part-way (the database is down) is rewound to its first record; the
        records already handled are then skipped by the inbox. One commit per batch instead of
        one per record is what lets a consumer keep up under load. `fetch_wait_ms` bounds how
        long an idle consumer waits for new records (and so the latency it adds).
        """
        if self.publish_dead_letter is None:
            self.publish_dead_letter = broker_dead_letters(broker)

        async def on_events(message: KafkaMessage) -> None:
            try:
                await self._handle_batch(message)
            except Exception as error:
                # the batch is rewound and delivered again: wait first, so that a consumer whose
                # every batch fails does not spin (the supervisor's backoff, counted as a restart)
                await asyncio.sleep(self.watch.failed(error))
                raise
            self.watch.succeeded()

        options.setdefault("description", f"{self.name}: idempotent consumer (inbox) of {topic}")
        subscriber = broker.subscriber(
            topic,
            group_id=group_id or self.name,
            auto_offset_reset="earliest",
            ack_policy=AckPolicy.NACK_ON_ERROR,
            batch=True,
            max_records=max_records,
            batch_timeout_ms=fetch_wait_ms,
            **options,
        )
        subscriber(on_events)
        return subscriber


def _lanes(records: Sequence[Any]) -> list[list[Any]]:
    """The records of each topic partition, in the order they came."""
    lanes: dict[tuple[str, int], list[Any]] = {}
    for record in records:
        lanes.setdefault((record.topic, record.partition), []).append(record)
    return list(lanes.values())


def dead_letter_headers(
    consumer: str, delivery: Delivery, error: BaseException, attempts: int
) -> dict[str, str]:
    """Why and where from, in the kernel's names and the contracts' `dlq_*` names. The error is
    described without the input (`describe_error`): a dead letter's text never repeats the
    personal data of the event it could not handle; the record itself is kept as it came."""
    text = describe_error(error)[:2000]
    return {
        "error_type": type(error).__name__,
        "error_message": text,
        "consumer": consumer,
        "original_topic": delivery.topic,
        "original_partition": str(delivery.partition),
        "original_offset": str(delivery.offset),
        "attempts": str(attempts),
        HEADER_DLQ_ERROR: text,
        HEADER_DLQ_CONSUMER_GROUP: consumer,
        HEADER_DLQ_ORIGINAL_TOPIC: delivery.topic,
        HEADER_DLQ_ORIGINAL_PARTITION: str(delivery.partition),
        HEADER_DLQ_ORIGINAL_OFFSET: str(delivery.offset),
        HEADER_DLQ_FAILED_AT: datetime.now(UTC).isoformat(),
    }


def broker_dead_letters(broker: KafkaBroker) -> DeadLetterPublisher:
    """Publish dead letters with the service's own broker (value and key unchanged)."""

    async def publish(topic: str, key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
        await broker.publish(value, topic, key=key, headers=headers)

    return publish


def _sequence_key(delivery: Delivery | None, event: RecordedEvent) -> str:
    """What orders a consumer's events: the record's key (the aggregate id), else the stream id."""
    if delivery is not None and delivery.key is not None:
        return delivery.key.decode(errors="replace")
    return event.stream_id
