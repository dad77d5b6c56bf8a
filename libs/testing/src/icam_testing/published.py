"""What the platform published: read the topics back and check events against the public contracts."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from icam_contracts import TOLERANT, EventEnvelope, parse_envelope
from icam_contracts.topics import TOPICS


@dataclass(frozen=True)
class Published:
    """One record as a subscriber of another government system would receive it."""

    topic: str
    key: str
    envelope: EventEnvelope
    event: Any
    headers: dict[str, str]

    @property
    def event_type(self) -> str:
        return self.envelope.event_type

    @property
    def data(self) -> dict[str, Any]:
        return self.envelope.data


async def read_all(
    bootstrap: str, topics: list[str], *, idle: float = 1.0, skip_invalid: bool = False
) -> list[Published]:
    """Every record on `topics`, from the beginning to the current end, validated against the contracts.

    Raises when a record's envelope or data does not validate: a publisher broke the public API —
    unless `skip_invalid` (a fault test that published a poison record on purpose): then such a
    record is left out.
    """
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        client_id=f"e2e-reader-{uuid.uuid4().hex[:6]}",
    )
    await consumer.start()
    try:
        partitions = [
            TopicPartition(t, p)
            for t in topics
            for p in (consumer.partitions_for_topic(t) or await _partitions(consumer, t))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[Published] = []
        while await _behind(consumer, ends):
            batch = await consumer.getmany(timeout_ms=int(idle * 1000))
            for tp_records in batch.values():
                for record in tp_records:
                    try:
                        records.append(_validated(record))
                    except ValueError:
                        if not skip_invalid:
                            raise
        return records
    finally:
        await consumer.stop()


async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
    for _ in range(50):
        await consumer._client.force_metadata_update()
        found = consumer.partitions_for_topic(topic)
        if found:
            return set(found)
        await asyncio.sleep(0.1)
    raise LookupError(f"topic {topic} has no partitions")


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False


def _validated(record: Any) -> Published:
    envelope = EventEnvelope.model_validate_json(record.value, context=TOLERANT)
    headers = {k: v.decode() for k, v in record.headers}
    return Published(record.topic, record.key.decode(), envelope, parse_envelope(envelope), headers)


def platform_topics(prefix: str) -> list[str]:
    return [prefix + t.name for t in TOPICS]


def of_journey(records: list[Published], correlation_id: str) -> list[Published]:
    return [r for r in records if r.envelope.correlation_id == correlation_id]


def counts(records: list[Published]) -> Counter[str]:
    """How often each event id was published (at least once delivery allows duplicates)."""
    return Counter(str(r.envelope.event_id) for r in records)


async def journey(
    bootstrap: str, prefix: str, household_id: str, expected: dict[str, str], *, timeout: float = 30.0
) -> dict[str, Published]:
    """Wait until each `expected` event type (→ its aggregate id) of the household is on its topic, then
    check what a subscriber relies on: every event of the household valid against the contracts,
    carrying one correlation id, published exactly once (no event id twice), keyed by its aggregate
    (key = stream id, headers = envelope). Returns the household's events by type (the last of each)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        records = [
            r
            for r in await read_all(bootstrap, platform_topics(prefix))
            if str(r.data.get("household_id")) == household_id
        ]
        seen = {r.event_type for r in records}
        if set(expected) <= seen or asyncio.get_running_loop().time() > deadline:
            break
        await asyncio.sleep(0.5)
    missing = set(expected) - seen
    assert not missing, f"never published: {sorted(missing)}; saw {sorted(seen)}"
    correlations = {r.envelope.correlation_id for r in records}
    assert len(correlations) == 1, f"the journey has several correlation ids: {correlations}"
    doubled = {event_id: n for event_id, n in counts(records).items() if n > 1}
    assert not doubled, f"events published more than once: {doubled}"
    for record in records:
        assert record.key == record.envelope.stream_id, f"{record.event_type} keyed by {record.key}"
        assert record.headers["event_id"] == str(record.envelope.event_id)
        assert record.headers["event_type"] == record.event_type
    for event_type, aggregate_id in expected.items():
        keys = {r.key for r in records if r.event_type == event_type}
        assert aggregate_id in keys, f"{event_type} not keyed by its aggregate {aggregate_id}: {keys}"
    return {r.event_type: r for r in records}
