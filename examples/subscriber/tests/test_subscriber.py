"""The example subscriber, against the real broker: it keeps every valid event once at its newest
version (an InterviewHeld v1 arrives as v2), moves what breaks the contract to the dead-letter
topic with the reason, and commits its offsets only after processing."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from icam_contracts import Actor, EventEnvelope
from icam_contracts.events import InterviewHeld, InterviewHeldV1, OutcomeDecided
from icam_contracts.jsonschema_export import example_payload
from icam_subscriber.__main__ import REPO_SCHEMAS
from icam_subscriber.store import SubscriberStore
from icam_subscriber.subscriber import Config, Subscriber

pytestmark = pytest.mark.integration


def envelope(model: Any, event_id: uuid.UUID | None = None) -> dict[str, Any]:
    """A real envelope, as the platform's outbox relay publishes it."""
    event = model.model_validate(example_payload(model))
    now = datetime.now(UTC)
    wrapped = EventEnvelope.wrap(
        event,
        event_id=event_id or uuid.uuid4(),
        stream_version=1,
        occurred_at=now,
        recorded_at=now,
        actor=Actor(id="coach-4711", role="coach"),
        correlation_id=str(event.household_id),
        causation_id=str(uuid.uuid4()),
    )
    return json.loads(wrapped.kafka_value())


async def publish(bootstrap: str, topic: str, values: list[dict[str, Any]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for value in values:
            headers = [
                ("event_type", value["event_type"].encode()),
                ("event_version", str(value["event_version"]).encode()),
            ]
            await producer.send_and_wait(
                topic, json.dumps(value).encode(), key=value["stream_id"].encode(), headers=headers
            )
    finally:
        await producer.stop()


async def read_all(bootstrap: str, topic: str, expected: int) -> list[Any]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    records: list[Any] = []
    try:
        async with asyncio.timeout(20):
            while len(records) < expected:
                for batch in (await consumer.getmany(timeout_ms=500)).values():
                    records += batch
    finally:
        await consumer.stop()
    return records


async def run_until(subscriber: Subscriber, committed: int, seconds: float = 30) -> None:
    """Run until `committed` records were processed and their offsets committed."""
    stop = asyncio.Event()
    task = asyncio.create_task(subscriber.run(stop))
    try:
        async with asyncio.timeout(seconds):
            while subscriber.committed < committed:
                await asyncio.sleep(0.1)
    finally:
        stop.set()
        await task


@pytest.fixture
async def topic(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> str:
    name = unique_name("icam.case.events")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1), NewTopic(f"{name}.dlq", 1, 1)])
    finally:
        await admin.close()
    return name


async def test_old_versions_arrive_upcast_duplicates_once_and_contract_breaches_in_the_dead_letter_topic(
    kafka_bootstrap: str, topic: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    old = envelope(InterviewHeldV1)
    missing_outcome = envelope(OutcomeDecided)
    del missing_outcome["data"]["outcome"]
    from_the_future = envelope(InterviewHeld) | {"event_version": 3}
    records = [old, envelope(InterviewHeld), old, missing_outcome, envelope(OutcomeDecided), from_the_future]
    await publish(kafka_bootstrap, topic, records)
    group, database = unique_name("my-system"), tmp_path / "subscriber.sqlite3"
    subscriber = Subscriber(Config(kafka_bootstrap, (topic,), group, REPO_SCHEMAS, database))

    await run_until(subscriber, committed=6)

    kept = SubscriberStore(database).events()
    assert [(e["event_type"], e["published_version"], e["version"]) for e in kept] == [
        ("InterviewHeld", 1, 2),
        ("InterviewHeld", 2, 2),
        ("OutcomeDecided", 1, 1),
    ]
    assert kept[0]["event_id"] == old["event_id"]
    assert kept[0]["data"]["interpreter_present"] is None  # v1 did not record it: unknown
    dead = await read_all(kafka_bootstrap, f"{topic}.dlq", expected=2)
    reasons = [dict(r.headers)["dlq_error"].decode() for r in dead]
    assert "OutcomeDecided v1: (root): 'outcome' is a required property" in reasons[0]
    assert reasons[1] == "no published schema for InterviewHeld v3"
    assert {dict(r.headers)["dlq_original_offset"] for r in dead} == {b"3", b"5"}
    assert json.loads(dead[0].value) == missing_outcome


async def test_offsets_are_committed_after_processing_so_a_restart_reads_nothing_twice(
    kafka_bootstrap: str, topic: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    await publish(kafka_bootstrap, topic, [envelope(OutcomeDecided), envelope(InterviewHeld)])
    group, database = unique_name("my-system"), tmp_path / "subscriber.sqlite3"
    config = Config(kafka_bootstrap, (topic,), group, REPO_SCHEMAS, database)
    await run_until(Subscriber(config), committed=2)

    probe = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=group, enable_auto_commit=False)
    await probe.start()
    try:
        assert await probe.committed(TopicPartition(topic, 0)) == 2
    finally:
        await probe.stop()

    await publish(kafka_bootstrap, topic, [envelope(OutcomeDecided)])
    restarted = Subscriber(config)
    await run_until(restarted, committed=1)
    assert (restarted.committed, restarted.handled) == (1, 1)  # only the new record, from the commit on
    assert len(SubscriberStore(database).events()) == 3

    replayed = Subscriber(Config(kafka_bootstrap, (topic,), unique_name("other"), REPO_SCHEMAS, database))
    await run_until(replayed, committed=3)  # a new group reads all three again: the store skips them
    assert replayed.handled == 0 and len(SubscriberStore(database).events()) == 3
