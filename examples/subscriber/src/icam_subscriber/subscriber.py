"""The consuming loop: read a batch, handle every record (or move it to the dead-letter topic),
then commit the batch's offsets. A crash before the commit redelivers the batch; the store's
handled-event ids make the second pass a no-op."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from icam_subscriber.contract import ContractViolation, PublishedSchemas, decode
from icam_subscriber.store import SubscriberStore

log = logging.getLogger("icam_subscriber")


@dataclass(frozen=True)
class Config:
    bootstrap: str
    topics: tuple[str, ...]
    group: str
    schemas: Path
    database: Path


class Subscriber:
    """Follows `config.topics` with its own consumer group until `stop` is set."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.schemas = PublishedSchemas(config.schemas)
        self.store = SubscriberStore(config.database)
        self.handled = 0  # events kept (duplicates and dead letters not counted)
        self.committed = 0  # records processed and committed, whatever their fate

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            *self.config.topics,
            bootstrap_servers=self.config.bootstrap,
            group_id=self.config.group,
            enable_auto_commit=False,  # we commit, after processing
            auto_offset_reset="earliest",
        )
        producer = AIOKafkaProducer(bootstrap_servers=self.config.bootstrap)
        await consumer.start()
        await producer.start()
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=200, max_records=200)
                for records in batches.values():
                    for record in records:
                        await self.process(record, producer)
                if batches:
                    await consumer.commit()
                    self.committed += sum(len(records) for records in batches.values())
        finally:
            await producer.stop()
            await consumer.stop()
            self.store.close()

    async def process(self, record: ConsumerRecord[bytes, bytes], producer: AIOKafkaProducer) -> None:
        try:
            event = decode(self.schemas, record.value)
        except ContractViolation as violation:
            await self.dead_letter(record, producer, str(violation))
            return
        if self.store.handle(event):
            self.handled += 1
            log.info(
                "handled %s v%s (published v%s)", event.event_type, event.version, event.published_version
            )

    async def dead_letter(
        self, record: ConsumerRecord[bytes, bytes], producer: AIOKafkaProducer, error: str
    ) -> None:
        """Copy the record to `<topic>.dlq` with why, as the contracts README asks; then move on."""
        headers = list(record.headers) + [
            (name, value.encode())
            for name, value in {
                "dlq_error": error[:2000],
                "dlq_consumer_group": self.config.group,
                "dlq_original_topic": record.topic,
                "dlq_original_partition": str(record.partition),
                "dlq_original_offset": str(record.offset),
                "dlq_failed_at": datetime.now(UTC).isoformat(),
            }.items()
        ]
        await producer.send_and_wait(f"{record.topic}.dlq", record.value, key=record.key, headers=headers)
        log.warning("dead-lettered offset %s of %s: %s", record.offset, record.topic, error)
