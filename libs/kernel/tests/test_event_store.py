"""The event store: appends guarded by expected versions, streams, temporal reads, read-all."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from icam_kernel.store import EventStore, ExpectedVersion, WrongExpectedVersion
from icam_kernel.testing import new_event
from icam_kernel.upcasting import UpcasterRegistry

pytestmark = pytest.mark.integration


async def test_appended_events_are_read_back_in_stream_order(conn: asyncpg.Connection) -> None:
    store = EventStore("t")
    first = await store.append(conn, "s-1", [new_event(n=1), new_event(n=2)], ExpectedVersion.NO_STREAM)
    second = await store.append(conn, "s-1", [new_event(n=3)], 2)

    events = await store.read_stream(conn, "s-1")

    assert [e.data["n"] for e in events] == [1, 2, 3]
    assert [e.stream_version for e in events] == [1, 2, 3]
    assert (first.stream_version, second.stream_version) == (2, 3)
    assert second.last_position > first.last_position
    assert await store.stream_version(conn, "s-1") == 3


@pytest.mark.parametrize("events", [1, 2], ids=["one event (plain statement)", "two (kernel_append)"])
async def test_only_one_of_twenty_concurrent_appends_at_the_same_version_wins(
    db: asyncpg.Pool, events: int
) -> None:
    store = EventStore("t")
    async with db.acquire() as conn:
        await store.append(conn, "case-1", [new_event()], ExpectedVersion.NO_STREAM)

    async def attempt(i: int) -> int | WrongExpectedVersion:
        async with db.acquire() as conn:
            try:
                return (
                    await store.append(conn, "case-1", [new_event(n=i) for _ in range(events)], 1)
                ).stream_version
            except WrongExpectedVersion as conflict:
                return conflict

    results = await asyncio.gather(*(attempt(i) for i in range(20)))

    winners = [r for r in results if isinstance(r, int)]
    losers = [r for r in results if isinstance(r, WrongExpectedVersion)]
    assert winners == [1 + events] and len(losers) == 19
    assert {loser.actual for loser in losers} <= {1, 1 + events}
    async with db.acquire() as conn:
        assert await store.stream_version(conn, "case-1") == 1 + events
        assert await conn.fetchval("select count(*) from outbox") == 1 + events


async def test_a_stale_expected_version_is_refused_with_the_current_version(conn: asyncpg.Connection) -> None:
    store = EventStore("t")
    await store.append(conn, "s", [new_event(), new_event()], ExpectedVersion.NO_STREAM)

    with pytest.raises(WrongExpectedVersion) as refused:
        await store.append(conn, "s", [new_event()], 1)
    with pytest.raises(WrongExpectedVersion):
        await store.append(conn, "s", [new_event()], ExpectedVersion.NO_STREAM)
    with pytest.raises(WrongExpectedVersion):
        await store.append(conn, "s", [new_event()], 5)

    assert refused.value.actual == 2
    assert await store.stream_version(conn, "s") == 2


async def test_any_version_appends_after_whatever_is_there(db: asyncpg.Pool) -> None:
    store = EventStore("t")

    async def append_any() -> None:
        async with db.acquire() as conn:
            await store.append(conn, "shared", [new_event()], ExpectedVersion.ANY)

    await asyncio.gather(*(append_any() for _ in range(10)))

    async with db.acquire() as conn:
        assert [e.stream_version for e in await store.read_stream(conn, "shared")] == list(range(1, 11))


async def test_an_append_in_a_rolled_back_transaction_leaves_nothing(conn: asyncpg.Connection) -> None:
    store = EventStore("t")
    with pytest.raises(RuntimeError):
        async with conn.transaction():
            await store.append(conn, "s", [new_event()], ExpectedVersion.NO_STREAM)
            raise RuntimeError("the command failed after appending")

    assert await store.stream_version(conn, "s") == 0
    assert await conn.fetchval("select count(*) from outbox") == 0


async def test_a_stream_can_be_read_as_it_was_recorded_at_a_past_time(conn: asyncpg.Connection) -> None:
    store = EventStore("t")
    await store.append(conn, "s", [new_event(n=1)], ExpectedVersion.NO_STREAM)
    await conn.execute("update events set recorded_at = recorded_at - interval '1 day'")
    yesterday_evening = datetime.now(UTC) - timedelta(hours=1)
    await store.append(conn, "s", [new_event(n=2)], 1)

    assert [e.data["n"] for e in await store.read_stream(conn, "s", as_of=yesterday_evening)] == [1]
    assert len(await store.read_stream(conn, "s")) == 2


async def test_a_stream_can_be_read_as_of_when_things_happened(conn: asyncpg.Connection) -> None:
    store = EventStore("t")
    monday = datetime(2026, 3, 2, 10, tzinfo=UTC)
    early = replace(new_event(n=1), occurred_at=monday)

    await store.append(conn, "s", [early, new_event(n=2)], ExpectedVersion.NO_STREAM)

    events = await store.read_stream(conn, "s", occurred_as_of=monday + timedelta(days=1))
    assert [e.data["n"] for e in events] == [1]


async def test_a_stored_v1_event_is_read_as_v2(conn: asyncpg.Connection) -> None:
    await EventStore("t").append(conn, "s", [new_event("InvitationSent", office="brussels")], 0)
    registry = UpcasterRegistry()
    registry.register("InvitationSent", 1, lambda p: {**p, "language": "fr"})

    [event] = await EventStore("t", upcaster=registry).read_stream(conn, "s")
    # read_all is gap-safe: it waits for every older transaction on the server (other tests' too)
    async with asyncio.timeout(30):
        while not (found := await EventStore("t", upcaster=registry).read_all(conn, 0, 10)):
            await asyncio.sleep(0.05)
    [all_event] = found

    assert (event.event_version, event.data) == (2, {"office": "brussels", "language": "fr"})
    assert all_event.event_version == 2
    stored = await conn.fetchval("select data->>'language' from events")
    assert stored is None  # the stored event is never rewritten
