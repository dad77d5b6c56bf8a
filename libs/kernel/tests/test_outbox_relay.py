"""The outbox relay: every committed event reaches Kafka, late commits included, one leader."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from icam_kernel.outbox import OutboxRelay
from icam_kernel.store import EventStore, ExpectedVersion
from icam_kernel.testing import new_event, read_topic

pytestmark = pytest.mark.integration

TopicFactory = Callable[..., Awaitable[str]]


async def naive_cursor_read(conn: asyncpg.Connection, last_seen: int) -> list[int]:
    """What a relay following `position > last_seen` would read: the bug ADR 0003 avoids."""
    return [
        r[0]
        for r in await conn.fetch(
            "select global_position from events where global_position > $1 order by global_position",
            last_seen,
        )
    ]


async def run_until(relay: OutboxRelay, done: Callable[[], Awaitable[bool]], timeout: float = 20) -> None:
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(timeout):
            while not await done():
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def outbox_empty(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return await conn.fetchval("select count(*) from outbox") == 0


async def test_an_event_committed_after_a_later_position_is_still_published(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("events")
    store = EventStore(topic)
    late = await db.acquire()
    try:
        slow = late.transaction()
        await slow.start()
        held = await store.append(late, "stream-a", [new_event(n=1)], ExpectedVersion.NO_STREAM)
        async with db.acquire() as conn:
            fast = await store.append(conn, "stream-b", [new_event(n=2)], ExpectedVersion.NO_STREAM)
            assert fast.last_position > held.last_position
            naive_first_pass = await naive_cursor_read(conn, 0)
        relay = OutboxRelay(db, topic, bootstrap=kafka_bootstrap, max_interval=0.01)
        task = asyncio.create_task(relay.run())
        await asyncio.sleep(0.5)  # the relay publishes stream-b while stream-a is still open
        await slow.commit()
        async with db.acquire() as conn:
            naive_second_pass = await naive_cursor_read(conn, max(naive_first_pass))
        await asyncio.wait_for(_until(lambda: outbox_empty(db)), 20)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    finally:
        await db.release(late)

    published = {m["value"]["stream_id"] for m in await read_topic(kafka_bootstrap, topic, 2)}
    assert published == {"stream-a", "stream-b"}
    # the naive cursor saw only the later position, then never looked behind it again
    assert naive_first_pass == [fast.last_position] and naive_second_pass == []


async def _until(check: Callable[[], Awaitable[bool]]) -> None:
    while not await check():
        await asyncio.sleep(0.05)


async def test_a_published_event_carries_the_envelope_key_and_headers(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("events")
    async with db.acquire() as conn:
        await EventStore(topic).append(conn, "inv-1", [new_event(office="liege")], ExpectedVersion.NO_STREAM)
        [stored] = await EventStore(topic).read_stream(conn, "inv-1")

    await run_until(OutboxRelay(db, topic, bootstrap=kafka_bootstrap), lambda: outbox_empty(db))

    [message] = await read_topic(kafka_bootstrap, topic, 1)
    assert message["value"] == stored.to_envelope()
    assert message["key"] == b"inv-1"
    assert dict(message["headers"]) == dict(stored.headers())


class CrashingProducer(AIOKafkaProducer):  # type: ignore[misc]
    """Dies after `survive` sends, like a relay process killed mid-batch."""

    def __init__(self, survive: int, **config: Any) -> None:
        super().__init__(**config)
        self.survive = survive

    async def send(self, *args: Any, **kwargs: Any) -> Any:
        if self.survive == 0:
            raise asyncio.CancelledError("killed mid-batch")
        self.survive -= 1
        return await super().send(*args, **kwargs)


async def test_a_relay_killed_mid_batch_loses_nothing_after_a_restart(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("events")
    store = EventStore(topic)
    async with db.acquire() as conn:
        for i in range(300):
            await store.append(conn, f"s-{i % 7}", [new_event(n=i)], ExpectedVersion.ANY)
        written = {str(r[0]) for r in await conn.fetch("select event_id from events")}

    crashing = OutboxRelay(
        db,
        topic,
        batch_size=100,
        producer_factory=lambda: CrashingProducer(250, bootstrap_servers=kafka_bootstrap, acks="all"),
    )
    with pytest.raises(asyncio.CancelledError):
        await asyncio.wait_for(crashing.run(), 20)
    async with db.acquire() as conn:
        assert 0 < await conn.fetchval("select count(*) from outbox") < 300  # part of it got through

    await run_until(OutboxRelay(db, topic, bootstrap=kafka_bootstrap), lambda: outbox_empty(db))

    received = [m["value"]["event_id"] for m in await read_topic(kafka_bootstrap, topic, 350, timeout=5)]
    assert set(received) == written
    assert len(received) >= 300  # duplicates are allowed, loss is not


async def test_only_one_of_two_relays_publishes_and_the_standby_takes_over(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("events")
    store = EventStore(topic)
    first = OutboxRelay(db, topic, bootstrap=kafka_bootstrap, standby_interval=0.1)
    second = OutboxRelay(db, topic, bootstrap=kafka_bootstrap, standby_interval=0.1)
    first_task = asyncio.create_task(first.run())
    await asyncio.wait_for(_until(lambda: _is(first)), 10)
    second_task = asyncio.create_task(second.run())
    async with db.acquire() as conn:
        for i in range(50):
            await store.append(conn, "s", [new_event(n=i)], ExpectedVersion.ANY)
    await asyncio.wait_for(_until(lambda: outbox_empty(db)), 20)
    assert (first.published, second.published, second.is_leader) == (50, 0, False)

    first_task.cancel()
    await asyncio.gather(first_task, return_exceptions=True)
    async with db.acquire() as conn:
        await store.append(conn, "s", [new_event(n=50)], ExpectedVersion.ANY)
    await asyncio.wait_for(_until(lambda: outbox_empty(db)), 20)
    second_task.cancel()
    await asyncio.gather(second_task, return_exceptions=True)

    assert second.published == 1
    assert len(await read_topic(kafka_bootstrap, topic, 51)) == 51


async def _is(relay: OutboxRelay) -> bool:
    return relay.is_leader
