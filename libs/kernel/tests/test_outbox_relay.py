"""The outbox relay: every committed event reaches Kafka, late commits included, one leader."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import asyncpg
import pytest

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
        # the relay publishes stream-b while stream-a is still open (its row is not visible yet)
        await asyncio.wait_for(_until(lambda: outbox_empty(db)), 20)
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


RELAY_PROCESS = Path(__file__).with_name("relay_process.py")


class RelayProcess:
    """A relay in its own process (`relay_process.py`), to be killed with SIGKILL."""

    def __init__(self, database_url: str, bootstrap: str, topic: str, linger_ms: int = 2) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(RELAY_PROCESS), database_url, bootstrap, topic, str(linger_ms)],
            stdout=subprocess.PIPE,
            text=True,
        )

    async def until_sent(self, n: int, timeout: float = 20) -> None:
        """Until the process handed its n-th record to its producer."""
        async with asyncio.timeout(timeout):
            while (line := await asyncio.to_thread(self.process.stdout.readline)) != f"sent {n}\n":  # type: ignore[union-attr]
                assert line, "the relay process ended"

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)


async def append_events(pool: asyncpg.Pool, topic: str, n: int, start: int = 0) -> set[str]:
    store = EventStore(topic)
    async with pool.acquire() as conn:
        for i in range(start, start + n):
            await store.append(conn, f"s-{i % 7}", [new_event(n=i)], ExpectedVersion.ANY)
        return {str(r[0]) for r in await conn.fetch("select event_id from events")}


async def published_ids(bootstrap: str, topic: str, at_least: int, timeout: float = 3) -> list[str]:
    """Every event id on the topic (waits for `at_least`, then a little more for duplicates)."""
    return [m["value"]["event_id"] for m in await read_topic(bootstrap, topic, at_least + 1, timeout)]


async def test_a_relay_process_killed_before_the_broker_acknowledged_deletes_nothing(
    db: asyncpg.Pool, database_url: str, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    # given a relay whose producer holds every record back (a long linger: nothing is flushed)
    topic = await kafka_topic("events")
    written = await append_events(db, topic, 20)
    relay = RelayProcess(database_url, kafka_bootstrap, topic, linger_ms=60_000)

    # when the process is killed with the whole batch handed to its producer, unacknowledged
    await relay.until_sent(20)
    relay.kill()

    # then every row is still in the outbox, and a restarted relay publishes each event once
    async with db.acquire() as conn:
        assert await conn.fetchval("select count(*) from outbox") == 20
    assert await read_topic(kafka_bootstrap, topic, 1, timeout=1) == []
    await run_until(OutboxRelay(db, topic, bootstrap=kafka_bootstrap), lambda: outbox_empty(db))
    received = await published_ids(kafka_bootstrap, topic, 20)
    assert sorted(received) == sorted(written)


async def test_a_relay_process_killed_between_the_acknowledgement_and_the_delete_publishes_nothing_twice(
    db: asyncpg.Pool, database_url: str, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    # given a relay that will get the broker's acknowledgements but cannot delete its rows yet
    topic = await kafka_topic("events")
    written = await append_events(db, topic, 100)
    holder = await db.acquire()
    held = holder.transaction()
    await held.start()
    await holder.execute("select position from outbox for update")  # the delete waits on these rows
    relay = RelayProcess(database_url, kafka_bootstrap, topic)

    # when the process is killed once the broker has every record, before it deleted any row
    try:
        await relay.until_sent(100)
        assert len(await read_topic(kafka_bootstrap, topic, 100)) == 100
        await _until_waiting_on_a_lock(db)  # acknowledged: its DELETE waits on our locks
        relay.kill()
        await _end_orphaned_backend(db)  # that DELETE must not run after the kill
    finally:
        await held.rollback()
        await db.release(holder)

    # then the relay that takes over finds them on the topic and sends none of them again
    async with db.acquire() as conn:
        assert await conn.fetchval("select count(*) from outbox") == 100
    await run_until(OutboxRelay(db, topic, bootstrap=kafka_bootstrap), lambda: outbox_empty(db))
    written |= await append_events(db, topic, 5, start=100)
    await run_until(OutboxRelay(db, topic, bootstrap=kafka_bootstrap), lambda: outbox_empty(db))
    received = await published_ids(kafka_bootstrap, topic, 105)
    assert sorted(received) == sorted(written)  # each event exactly once


async def test_the_standby_takes_over_when_the_leaders_process_is_killed(
    db: asyncpg.Pool, database_url: str, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("events")
    leader = RelayProcess(database_url, kafka_bootstrap, topic)
    await _until(lambda: _advisory_lock_held(db))
    standby = OutboxRelay(db, topic, bootstrap=kafka_bootstrap, standby_interval=0.1)
    standby_task = asyncio.create_task(standby.run())
    try:
        written = await append_events(db, topic, 10)
        await asyncio.wait_for(_until(lambda: outbox_empty(db)), 20)
        assert standby.published == 0

        leader.kill()  # its session ends with the process, and the lock with it
        written |= await append_events(db, topic, 10, start=10)
        await asyncio.wait_for(_until(lambda: outbox_empty(db)), 20)
    finally:
        standby_task.cancel()
        await asyncio.gather(standby_task, return_exceptions=True)

    assert standby.published == 10
    assert sorted(await published_ids(kafka_bootstrap, topic, 20)) == sorted(written)


async def test_the_standby_takes_over_when_the_leaders_connection_is_cut(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("events")
    first = OutboxRelay(db, topic, bootstrap=kafka_bootstrap, standby_interval=0.1)
    second = OutboxRelay(db, topic, bootstrap=kafka_bootstrap, standby_interval=0.1)
    tasks = [asyncio.create_task(first.run())]
    await asyncio.wait_for(_until(lambda: _is(first)), 10)
    tasks.append(asyncio.create_task(second.run()))
    try:
        async with db.acquire() as conn:  # the leader's backend is terminated (a failover, a DBA)
            await conn.execute(
                "select pg_terminate_backend(pid) from pg_locks where locktype = 'advisory' and granted"
                " and database = (select oid from pg_database where datname = current_database())"
            )
        await asyncio.wait_for(_until(lambda: _is(second)), 10)
        written = await append_events(db, topic, 10)
        await asyncio.wait_for(_until(lambda: outbox_empty(db)), 20)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    assert (first.is_leader, second.published) == (False, 10)
    assert sorted(await published_ids(kafka_bootstrap, topic, 10)) == sorted(written)


async def _until_waiting_on_a_lock(db: asyncpg.Pool, timeout: float = 30) -> None:
    async with db.acquire() as conn, asyncio.timeout(timeout):
        while not await conn.fetchval(_WAITING):
            await asyncio.sleep(0.05)


async def _end_orphaned_backend(db: asyncpg.Pool) -> None:
    """End the killed process's backend, which still waits on a lock (PostgreSQL notices a vanished
    client only when it next talks to it)."""
    async with db.acquire() as conn:
        async with asyncio.timeout(10):
            while not await conn.fetchval(_KILL_WAITING):
                await asyncio.sleep(0.05)
        async with asyncio.timeout(10):
            while await conn.fetchval(_WAITING):
                await asyncio.sleep(0.05)


_WAITING = """select count(*) from pg_stat_activity
where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()"""
_KILL_WAITING = """select count(pg_terminate_backend(pid)) from pg_stat_activity
where datname = current_database() and wait_event_type = 'Lock' and pid <> pg_backend_pid()"""


async def _advisory_lock_held(db: asyncpg.Pool) -> bool:
    async with db.acquire() as conn:
        return bool(
            await conn.fetchval(
                "select count(*) from pg_locks where locktype = 'advisory' and granted and database ="
                " (select oid from pg_database where datname = current_database())"
            )
        )


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


async def test_an_append_in_the_relays_process_is_published_without_waiting_for_the_idle_poll(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: TopicFactory
) -> None:
    topic = await kafka_topic("woken")
    # idle, the relay polls after 0.5, 1, 2, 4 s ... up to a minute
    relay = OutboxRelay(db, topic, bootstrap=kafka_bootstrap, min_interval=0.5, max_interval=60.0)
    store = EventStore(topic)
    store.appended = relay.wake  # as the service wires them
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(20):
            while not relay.is_leader:
                await asyncio.sleep(0.01)
        await asyncio.sleep(3.6)  # idle until its next poll is 4 s away
        async with db.acquire() as conn, conn.transaction():
            await store.append(conn, "stream-w", [new_event(n=1)], ExpectedVersion.NO_STREAM)
            await asyncio.sleep(0.05)  # the commit comes a moment after the append (and its wake-up)
        started = asyncio.get_running_loop().time()
        await asyncio.wait_for(_until(lambda: outbox_empty(db)), 20)
        waited = asyncio.get_running_loop().time() - started
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    assert waited < 2.0, f"published {waited:.1f} s after the commit: the relay slept on"
    assert [m["value"]["stream_id"] for m in await read_topic(kafka_bootstrap, topic, 1)] == ["stream-w"]
