"""Idempotent consumer: inbox row, handler and commit in one transaction; offset after commit.

FastStream's Kafka subscribers acknowledge FIRST by default (`AckPolicy.ACK_FIRST`: auto-commit on,
at most once). `subscribe` registers a batch subscriber with `ack_policy=AckPolicy.NACK_ON_ERROR`,
which makes FastStream turn auto-commit off (`KafkaSubscriberConfig`: `enable_auto_commit =
ack_first`) and commit the offsets only after the handler returned for the whole batch; an
exception that escapes (the database is unreachable) seeks every partition back to the batch's
first record, so nothing unhandled is ever committed past. Handler errors never escape:
they are retried with backoff, then dead-lettered (`<topic>.dlq` and the `dead_letters` table),
and the offset moves on.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
import traceback
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import structlog
from aiokafka import TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage

from icam_kernel import sealing
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.observability import CONSUMER_LAG, DEAD_LETTERS, HANDLER_SECONDS, bound_context
from icam_kernel.sealing import Vault
from icam_kernel.upcasting import Upcaster

log = structlog.get_logger(__name__)

Handler = Callable[[Connection, RecordedEvent], Awaitable[None]]
DeadLetterPublisher = Callable[[str, bytes | None, bytes, dict[str, str]], Awaitable[None]]

_MARK = "insert into inbox (consumer, event_id) values ($1, $2) on conflict do nothing returning true"

# errors of the infrastructure, not of the event: never dead-letter for these, deliver again
_TRANSIENT: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
)


class Outcome(enum.Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    DEAD_LETTERED = "dead_lettered"
    NOT_OF_INTEREST = "not_of_interest"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One Kafka record, as the consumer got it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes
    headers: Sequence[tuple[str, bytes]] = ()


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Attempts before dead-lettering, and the backoff between them (doubling up to `max_backoff`)."""

    attempts: int = 5
    backoff: float = 0.2
    max_backoff: float = 5.0

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
        vault: Vault | None = None,
    ) -> None:
        self.pool, self.name, self.handler = pool, consumer_name, handler
        self.vault = vault
        self.publish_dead_letter = dead_letters
        self.retry = retry or RetryPolicy()
        self.upcaster = upcaster
        # the types the handler acts on (None: all); others are passed over without a transaction
        self.event_types = frozenset(event_types) if event_types is not None else None

    async def parse(self, value: bytes) -> RecordedEvent:
        """The event of a record: personal data opened (the process's vault), then upcast. A seal
        that does not open is poison (dead letter); an unreachable key custodian is not (retry)."""
        event = RecordedEvent.from_envelope(json.loads(value))
        vault = self.vault or sealing.installed()
        if vault is not None:
            (event,) = await vault.open_events([event])
        if self.upcaster is None:
            return event
        return event.with_payload(*self.upcaster.upcast(event.event_type, event.event_version, event.data))

    async def handle_once(self, event: RecordedEvent) -> Outcome:
        """Inbox row + handler in one transaction; a duplicate is skipped without effect."""
        async with self.pool.acquire() as conn, conn.transaction():
            first = await conn.fetchval(
                _MARK,
                self.name,
                event.event_id,
            )
            if not first:
                return Outcome.DUPLICATE
            await self.handler(conn, event)
        return Outcome.HANDLED

    async def process(self, delivery: Delivery) -> Outcome:
        """Handle one record with retries; dead-letter it when it keeps failing. Raises only for
        infrastructure errors, which must lead to redelivery rather than a commit."""
        if not self.interested_in(delivery):
            return Outcome.NOT_OF_INTEREST
        try:
            event = await self.parse(delivery.value)
        except (ValueError, KeyError, TypeError) as malformed:
            return await self._dead_letter(delivery, None, malformed, attempts=1)
        with bound_context(
            correlation_id=event.correlation_id, event_id=str(event.event_id), consumer=self.name
        ):
            for attempt in range(1, self.retry.attempts + 1):
                started = time.perf_counter()
                try:
                    outcome = await self.handle_once(event)
                except _TRANSIENT:
                    await asyncio.sleep(self.retry.delay(attempt))
                    raise
                except Exception as error:
                    HANDLER_SECONDS.labels(self.name, "error").observe(time.perf_counter() - started)
                    log.warning(
                        "handler_failed", attempt=attempt, error_type=type(error).__name__, error=str(error)
                    )
                    if attempt == self.retry.attempts:
                        return await self._dead_letter(delivery, event, error, attempts=attempt)
                    await asyncio.sleep(self.retry.delay(attempt))
                else:
                    HANDLER_SECONDS.labels(self.name, outcome.value).observe(time.perf_counter() - started)
                    return outcome
        raise AssertionError("unreachable")

    async def _dead_letter(
        self, delivery: Delivery, event: RecordedEvent | None, error: BaseException, *, attempts: int
    ) -> Outcome:
        headers = {
            **{k: v.decode(errors="replace") for k, v in delivery.headers},
            "error_type": type(error).__name__,
            "error_message": str(error)[:2000],
            "error_trace": "".join(traceback.format_exception_only(error)).strip()[:2000],
            "consumer": self.name,
            "original_topic": delivery.topic,
            "original_partition": str(delivery.partition),
            "original_offset": str(delivery.offset),
            "attempts": str(attempts),
        }
        if self.publish_dead_letter is not None:
            await self.publish_dead_letter(f"{delivery.topic}.dlq", delivery.key, delivery.value, headers)
        await record_dead_letter(self.pool, self.name, delivery, event, headers)
        DEAD_LETTERS.labels(self.name).inc()
        log.error(
            "event_dead_lettered",
            topic=delivery.topic,
            offset=delivery.offset,
            error=headers["error_message"],
        )
        return Outcome.DEAD_LETTERED

    def interested_in(self, delivery: Delivery) -> bool:
        """Whether the handler acts on this record's type, read from the `event_type` header.

        A record of another type has no effect to protect, so it needs no inbox row: skipping its
        transaction is what keeps a consumer of a busy topic ahead of it. A record without the
        header is parsed as usual."""
        if self.event_types is None:
            return True
        event_type = next((value for name, value in delivery.headers if name == "event_type"), None)
        return event_type is None or event_type.decode(errors="replace") in self.event_types

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
        gets its own transaction (inbox row + handler), in partition order, and the offsets of the
        batch are committed once, after the last one. A batch that fails part-way (the database is
        down) is rewound to its first record; the records already handled are then skipped by the
        inbox. One commit per batch instead of one per record is what lets a consumer keep up under
        load. `fetch_wait_ms` bounds how long an idle consumer waits for new records (and so the
        latency it adds).
        """
        if self.publish_dead_letter is None:
            self.publish_dead_letter = broker_dead_letters(broker)

        async def on_events(message: KafkaMessage) -> None:
            records = message.raw_message
            for record in records if isinstance(records, tuple) else (records,):
                await self.process(
                    Delivery(
                        record.topic,
                        record.partition,
                        record.offset,
                        record.key,
                        record.value,
                        record.headers,
                    )
                )
                self.record_lag(message.consumer, record.topic, record.partition, record.offset)

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


def broker_dead_letters(broker: KafkaBroker) -> DeadLetterPublisher:
    """Publish dead letters with the service's own broker (value and key unchanged)."""

    async def publish(topic: str, key: bytes | None, value: bytes, headers: dict[str, str]) -> None:
        await broker.publish(value, topic, key=key, headers=headers)

    return publish


async def record_dead_letter(
    pool: asyncpg.Pool,
    consumer: str,
    delivery: Delivery,
    event: RecordedEvent | None,
    headers: Mapping[str, str],
) -> None:
    """Keep the dead letter, and mark the event as dealt with in the inbox so that a redelivery
    neither runs the handler again nor dead-letters it twice (replay removes that mark)."""
    async with pool.acquire() as conn, conn.transaction():
        if event is not None:
            first = await conn.fetchval(
                _MARK,
                consumer,
                event.event_id,
            )
            if not first:
                return
        await conn.execute(
            """insert into dead_letters (consumer, topic, "partition", "offset", event_id, event_type,
                   key, value, headers, error_type, error_message, attempts)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)""",
            consumer,
            delivery.topic,
            delivery.partition,
            delivery.offset,
            event.event_id if event else None,
            event.event_type if event else None,
            delivery.key.decode(errors="replace") if delivery.key is not None else None,
            delivery.value.decode(errors="replace"),
            json.dumps({k: v.decode(errors="replace") for k, v in delivery.headers}),
            headers["error_type"],
            headers["error_message"],
            int(headers["attempts"]),
        )
