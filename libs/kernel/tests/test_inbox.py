"""The idempotent consumer over FastStream and a real broker: one effect per event, poison to DLQ."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from icam_kernel.dead_letters import list_dead_letters, replay, replay_in_process
from icam_kernel.events import RecordedEvent
from icam_kernel.inbox import Delivery, IdempotentConsumer, Outcome, RetryPolicy
from icam_kernel.migrations import apply_migrations, kernel_migrations
from icam_kernel.store import EventStore, ExpectedVersion
from icam_kernel.testing import new_event, read_topic

pytestmark = pytest.mark.integration

FAST_RETRY = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02)
COUNTER_SQL = "create table if not exists counter (stream_id text primary key, n integer not null)"


async def count_event(conn: asyncpg.Connection, event: RecordedEvent) -> None:
    if event.data.get("poison"):
        raise ValueError("cannot handle a poison event")
    await conn.execute(
        "insert into counter values ($1, 1) on conflict (stream_id) do update set n = counter.n + 1",
        event.stream_id,
    )


async def recorded(db: asyncpg.Pool, stream_id: str, **data: object) -> RecordedEvent:
    async with db.acquire() as conn:
        await EventStore("source").append(conn, stream_id, [new_event(**data)], ExpectedVersion.ANY)
        return (await EventStore("source").read_stream(conn, stream_id))[-1]


async def counts(db: asyncpg.Pool) -> dict[str, int]:
    async with db.acquire() as conn:
        return {r["stream_id"]: r["n"] for r in await conn.fetch("select * from counter")}


async def until(check: Callable[[], Awaitable[bool]], timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


@pytest.fixture
async def consumer_db(db: asyncpg.Pool) -> asyncpg.Pool:
    async with db.acquire() as conn:
        await conn.execute(COUNTER_SQL)
    return db


async def test_a_redelivered_event_has_no_second_effect(consumer_db: asyncpg.Pool) -> None:
    consumer = IdempotentConsumer(consumer_db, "case-from-invitations", count_event, retry=FAST_RETRY)
    event = await recorded(consumer_db, "inv-1", n=1)
    delivery = Delivery("icam.invitation.events", 0, 7, b"inv-1", event.to_json())

    first = await consumer.process(delivery)
    again = await consumer.process(delivery)

    assert (first, again) == (Outcome.HANDLED, Outcome.DUPLICATE)
    assert await counts(consumer_db) == {"inv-1": 1}


async def test_a_faststream_subscriber_commits_only_after_the_transaction(
    consumer_db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: Callable[..., Awaitable[str]]
) -> None:
    topic = await kafka_topic("invitations", partitions=1)
    events = [await recorded(consumer_db, f"inv-{i}", n=i) for i in range(3)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    for event in [*events, events[0]]:  # the first one twice, as a redelivery would
        await producer.send_and_wait(topic, event.to_json(), key=event.stream_id.encode())
    await producer.stop()
    consumer = IdempotentConsumer(consumer_db, "counter", count_event, retry=FAST_RETRY)

    broker = KafkaBroker(kafka_bootstrap)
    subscriber = consumer.subscribe(broker, topic)
    async with broker:
        await broker.start()
        await until(lambda: _committed(broker, topic, 4))

    assert await counts(consumer_db) == {"inv-0": 1, "inv-1": 1, "inv-2": 1}
    assert subscriber.ack_policy.value == "nack_on_error"


async def test_the_consumer_lag_gauge_is_set_per_partition_once_records_are_handled(
    consumer_db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: Callable[..., Awaitable[str]]
) -> None:
    topic = await kafka_topic("lagging", partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    for i in range(3):
        event = await recorded(consumer_db, f"lag-{i}", n=i)
        await producer.send_and_wait(topic, event.to_json(), key=event.stream_id.encode())
    await producer.stop()
    consumer = IdempotentConsumer(consumer_db, "lag-counter", count_event, retry=FAST_RETRY)
    broker = KafkaBroker(kafka_bootstrap)
    consumer.subscribe(broker, topic)

    async with broker:
        await broker.start()
        await until(lambda: _committed(broker, topic, 3))

    lag = REGISTRY.get_sample_value(
        "icam_consumer_lag", {"consumer": "lag-counter", "topic": topic, "partition": "0"}
    )
    assert lag == 0


async def test_a_batch_cut_short_by_an_outage_is_rewound_and_each_event_still_has_one_effect(
    consumer_db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: Callable[..., Awaitable[str]]
) -> None:
    topic = await kafka_topic("outage", partitions=1)
    events = [await recorded(consumer_db, f"out-{i}", n=i) for i in range(20)]
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    for event in events:
        await producer.send(topic, event.to_json(), key=event.stream_id.encode())
    await producer.flush()
    await producer.stop()
    outage = {"left": 1}

    async def flaky_database(conn: asyncpg.Connection, event: RecordedEvent) -> None:
        if event.stream_id == "out-12" and outage["left"]:
            outage["left"] -= 1  # the database drops once, in the middle of a batch
            raise ConnectionResetError("connection to the database lost")
        await count_event(conn, event)

    consumer = IdempotentConsumer(consumer_db, "outage-counter", flaky_database, retry=FAST_RETRY)
    broker = KafkaBroker(kafka_bootstrap)
    consumer.subscribe(broker, topic)
    async with broker:
        await broker.start()
        await until(lambda: _committed(broker, topic, 20))

    assert outage["left"] == 0
    assert await counts(consumer_db) == {f"out-{i}": 1 for i in range(20)}
    assert await list_dead_letters(consumer_db) == []


def test_the_lag_is_not_recorded_for_a_consumer_without_watermarks() -> None:
    consumer = IdempotentConsumer(None, "no-watermarks", count_event)  # type: ignore[arg-type]

    consumer.record_lag(object(), "t", 0, 5)

    assert (
        REGISTRY.get_sample_value(
            "icam_consumer_lag", {"consumer": "no-watermarks", "topic": "t", "partition": "0"}
        )
        is None
    )


async def _committed(broker: KafkaBroker, topic: str, offset: int) -> bool:
    from aiokafka import TopicPartition

    consumer = broker.subscribers[0].consumer  # type: ignore[attr-defined]
    return (await consumer.committed(TopicPartition(topic, 0))) == offset


async def test_a_poison_event_is_dead_lettered_and_the_next_event_still_processed(
    consumer_db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: Callable[..., Awaitable[str]]
) -> None:
    topic = await kafka_topic("invitations", partitions=1)
    poison = await recorded(consumer_db, "inv-poison", poison=True)
    good = await recorded(consumer_db, "inv-good", n=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    for event in (poison, good):
        await producer.send_and_wait(
            topic, event.to_json(), key=event.stream_id.encode(), headers=event.headers()
        )
    consumer = IdempotentConsumer(consumer_db, "counter", count_event, retry=FAST_RETRY)

    broker = KafkaBroker(kafka_bootstrap)
    consumer.subscribe(broker, topic)
    async with broker:
        await broker.start()
        await until(lambda: _has(counts(consumer_db), "inv-good"))
        [dead] = await read_topic(kafka_bootstrap, f"{topic}.dlq", 1)
        async with consumer_db.acquire() as conn:
            [letter] = await list_dead_letters(conn, "counter")

        # the handler is fixed and redeployed; the operator replays the dead letter
        consumer.handler = lambda conn, event: count_event(conn, event.with_payload(1, {"n": 9}))
        await replay(consumer_db, letter["id"], producer)
        await until(lambda: _has(counts(consumer_db), "inv-poison"))
    await producer.stop()

    assert dead["value"]["event_id"] == str(poison.event_id)
    assert dead["headers"]["error_type"] == b"ValueError"
    assert dead["headers"]["error_message"] == b"ValueError: cannot handle a poison event"
    assert dead["headers"]["dlq_error"] == dead["headers"]["error_message"]
    assert dead["headers"]["dlq_consumer_group"] == b"counter"
    assert dead["headers"]["consumer"] == b"counter"
    assert (dead["headers"]["original_topic"], dead["headers"]["original_offset"]) == (topic.encode(), b"0")
    assert (letter["event_id"], letter["attempts"], letter["error_type"]) == (
        str(poison.event_id),
        3,
        "ValueError",
    )
    assert await counts(consumer_db) == {"inv-good": 1, "inv-poison": 1}


async def _has(counted: Awaitable[dict[str, int]], stream_id: str) -> bool:
    return stream_id in await counted


async def test_a_dead_letter_replayed_in_process_runs_the_fixed_handler_once(
    consumer_db: asyncpg.Pool,
) -> None:
    poison = await recorded(consumer_db, "inv-p", poison=True)
    consumer = IdempotentConsumer(consumer_db, "counter", count_event, retry=FAST_RETRY)
    outcome = await consumer.process(Delivery("t", 0, 0, b"inv-p", poison.to_json()))
    async with consumer_db.acquire() as conn:
        [letter] = await list_dead_letters(conn)

    consumer.handler = lambda conn, event: count_event(conn, event.with_payload(1, {}))
    replayed = await replay_in_process(consumer_db, letter["id"], consumer)
    redelivered = await consumer.process(Delivery("t", 0, 0, b"inv-p", poison.to_json()))

    assert (outcome, replayed, redelivered) == (Outcome.DEAD_LETTERED, Outcome.HANDLED, Outcome.DUPLICATE)
    assert await counts(consumer_db) == {"inv-p": 1}
    async with consumer_db.acquire() as conn:
        assert await list_dead_letters(conn) == []


async def test_a_malformed_message_is_dead_lettered_without_retries(consumer_db: asyncpg.Pool) -> None:
    consumer = IdempotentConsumer(consumer_db, "counter", count_event, retry=FAST_RETRY)

    outcome = await consumer.process(Delivery("t", 1, 5, None, b"not json"))

    async with consumer_db.acquire() as conn:
        [letter] = await list_dead_letters(conn)
    assert outcome is Outcome.DEAD_LETTERED
    assert (letter["event_id"], letter["attempts"], letter["offset"]) == (None, 1, 5)


async def test_migrations_are_idempotent_and_tracked(pg_pool: asyncpg.Pool) -> None:
    first = await apply_migrations(pg_pool)
    second = await asyncio.gather(apply_migrations(pg_pool), apply_migrations(pg_pool))

    kernel = [name for name, _ in kernel_migrations()]
    assert kernel[:2] == ["kernel/0001_kernel.sql", "kernel/0002_application.sql"]
    assert first == kernel and second == [[], []]
    async with pg_pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from schema_migrations") == len(kernel)


async def test_events_of_no_interest_are_passed_over_without_a_transaction(consumer_db: asyncpg.Pool) -> None:
    consumer = IdempotentConsumer(
        consumer_db, "outcome-only", count_event, retry=FAST_RETRY, event_types={"OutcomeDecided"}
    )
    held = await recorded(consumer_db, "case-1", n=1)
    headers = [("event_type", b"InterviewHeld")]

    outcome = await consumer.process(Delivery("icam.case.events", 0, 3, b"case-1", held.to_json(), headers))

    assert outcome is Outcome.NOT_OF_INTEREST
    assert await counts(consumer_db) == {}
    async with consumer_db.acquire() as conn:
        assert await conn.fetchval("select count(*) from inbox where consumer = 'outcome-only'") == 0
    decided = [("event_type", b"OutcomeDecided")]
    handled = await consumer.process(Delivery("icam.case.events", 0, 4, b"case-1", held.to_json(), decided))
    assert handled is Outcome.HANDLED


def fetched(partition: int, offset: int, event: RecordedEvent) -> ConsumerRecord[bytes, bytes]:
    """A record as aiokafka hands it over in a fetch."""
    value = event.to_json()
    return ConsumerRecord("icam.invitation.events", partition, offset, 0, 0, event.stream_id.encode(),
                          value, None, 0, len(value), ())  # fmt: skip


async def test_the_partitions_of_a_batch_are_handled_side_by_side_each_in_its_own_order(
    consumer_db: asyncpg.Pool,
) -> None:
    first = [await recorded(consumer_db, f"p0-{i}", n=i) for i in range(3)]
    second = [await recorded(consumer_db, f"p1-{i}", n=i) for i in range(3)]
    batch = [fetched(0, i, e) for i, e in enumerate(first)] + [fetched(1, i, e) for i, e in enumerate(second)]
    handled: list[str] = []
    other_partition_started = asyncio.Event()

    async def slow_first_partition(conn: asyncpg.Connection, event: RecordedEvent) -> None:
        if event.stream_id.startswith("p1-"):
            other_partition_started.set()
        elif event.stream_id == "p0-0":  # handled one record after another, this would wait for good
            await asyncio.wait_for(other_partition_started.wait(), 5)
        handled.append(event.stream_id)
        await count_event(conn, event)

    consumer = IdempotentConsumer(consumer_db, "side-by-side", slow_first_partition, retry=FAST_RETRY)
    await consumer.handle_records(batch)

    assert [s for s in handled if s.startswith("p0-")] == ["p0-0", "p0-1", "p0-2"]
    assert [s for s in handled if s.startswith("p1-")] == ["p1-0", "p1-1", "p1-2"]
    assert handled.index("p1-0") < handled.index("p0-0")
    assert await counts(consumer_db) == dict.fromkeys([*(e.stream_id for e in first + second)], 1)


async def test_an_outage_in_one_partition_lets_the_others_finish_then_rewinds_the_batch(
    consumer_db: asyncpg.Pool,
) -> None:
    events = [await recorded(consumer_db, f"lane-{p}-{i}", n=i) for p in range(3) for i in range(2)]
    batch = [fetched(int(e.stream_id.split("-")[1]), i % 2, e) for i, e in enumerate(events)]

    async def partition_one_has_lost_its_database(conn: asyncpg.Connection, event: RecordedEvent) -> None:
        if event.stream_id == "lane-1-0":
            raise ConnectionResetError("connection to the database lost")
        await count_event(conn, event)

    patient = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, outage_ceiling=0.05)
    consumer = IdempotentConsumer(consumer_db, "lanes", partition_one_has_lost_its_database, retry=patient)
    with pytest.raises(ConnectionResetError):
        await consumer.handle_records(batch)

    assert await counts(consumer_db) == {"lane-0-0": 1, "lane-0-1": 1, "lane-2-0": 1, "lane-2-1": 1}
