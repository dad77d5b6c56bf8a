"""The idempotent consumer under faults: outages are waited out and never dead-lettered; a dead
letter holds back the later events of its stream until it is replayed or discarded (issue 18)."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from icam_contracts.events import InvitationSent
from icam_contracts.jsonschema_export import example_payload
from icam_kernel.dead_letters import discard, list_dead_letters, list_parked, replay_in_process
from icam_kernel.events import RecordedEvent
from icam_kernel.inbox import Delivery, IdempotentConsumer, Outcome, RetryPolicy
from icam_kernel.keyring import DataKey, KeyringUnavailable, LocalKeyring
from icam_kernel.parking import release_parked
from icam_kernel.sealing import Vault, sealed_values
from icam_kernel.testing import COACH

pytestmark = pytest.mark.integration

FAST = RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, outage_ceiling=30)
APPLIED_SQL = "create table if not exists applied (stream_id text, n integer, at bigserial)"
# a real PostgreSQL error in the handler's transaction, raised by the database itself: the first
# `budget` inserts into `applied` fail with the SQLSTATE given (a sequence is not rolled back)
FAULT_SQL = """
create sequence if not exists faults;
create or replace function inject_fault() returns trigger language plpgsql as $$
begin
    if nextval('faults') <= {budget} then
        raise exception 'injected fault' using errcode = '{sqlstate}';
    end if;
    return new;
end $$;
create trigger inject_fault before insert on applied for each row execute function inject_fault();
"""


async def apply(conn: asyncpg.Connection, event: RecordedEvent) -> None:
    if event.data.get("poison"):
        raise ValueError("the handler cannot take this event")
    await conn.execute("insert into applied (stream_id, n) values ($1, $2)", event.stream_id, event.data["n"])


@pytest.fixture
async def applied_db(db: asyncpg.Pool) -> asyncpg.Pool:
    async with db.acquire() as conn:
        await conn.execute(APPLIED_SQL)
    return db


def delivery(stream_id: str, offset: int, **data: object) -> Delivery:
    """A record of `stream_id` at `offset` of partition 0, as the relay would have published it."""
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    event = RecordedEvent(
        offset + 1, stream_id, offset + 1, uuid.uuid4(), "ReferralAcknowledged", 1, dict(data), at, at,
        COACH, str(uuid.uuid4()), None,
    )  # fmt: skip
    return Delivery("icam.referral.events", 0, offset, stream_id.encode(), event.to_json(), event.headers())


async def applied(db: asyncpg.Pool, stream_id: str) -> list[int]:
    async with db.acquire() as conn:
        rows = await conn.fetch("select n from applied where stream_id = $1 order by at", stream_id)
    return [r["n"] for r in rows]


@pytest.mark.parametrize(
    "sqlstate",
    ["40001", "40P01", "25006", "57014", "53300"],
    ids=["serialization", "deadlock", "read-only", "query-cancelled", "too-many-connections"],
)
async def test_a_transient_database_refusal_is_waited_out_and_never_dead_lettered(
    applied_db: asyncpg.Pool, sqlstate: str
) -> None:
    async with applied_db.acquire() as conn:
        await conn.execute(FAULT_SQL.format(budget=6, sqlstate=sqlstate))  # twice the handler's attempts
    consumer = IdempotentConsumer(applied_db, "faulty", apply, retry=FAST)

    outcome = await consumer.process(delivery("ref-1", 0, n=1))

    assert outcome is Outcome.HANDLED
    assert await applied(applied_db, "ref-1") == [1]
    async with applied_db.acquire() as conn:
        assert await list_dead_letters(conn) == []


async def test_an_outage_past_the_ceiling_escapes_for_redelivery_and_is_still_not_dead_lettered(
    applied_db: asyncpg.Pool,
) -> None:
    async with applied_db.acquire() as conn:
        await conn.execute(FAULT_SQL.format(budget=10_000, sqlstate="57P03"))
    consumer = IdempotentConsumer(
        applied_db,
        "down",
        apply,
        retry=RetryPolicy(attempts=3, backoff=0.01, max_backoff=0.02, outage_ceiling=0.3),
    )

    with pytest.raises(asyncpg.CannotConnectNowError):
        await consumer.process(delivery("ref-1", 0, n=1))

    async with applied_db.acquire() as conn:
        assert await list_dead_letters(conn) == []
        assert await conn.fetchval("select count(*) from inbox") == 0  # delivered again, handled then


async def test_events_behind_a_dead_letter_of_their_stream_are_parked_and_applied_in_order_on_replay(
    applied_db: asyncpg.Pool,
) -> None:
    consumer = IdempotentConsumer(applied_db, "ordered", apply, retry=FAST)
    first, second, other, third = (
        delivery("ref-1", 0, n=1, poison=True),
        delivery("ref-1", 1, n=2),
        delivery("ref-2", 2, n=7),
        delivery("ref-1", 3, n=3),
    )

    outcomes = [await consumer.process(d) for d in (first, second, other, third)]
    await consumer.process(second)  # a rewound batch delivers a parked one again: parked once

    assert outcomes == [Outcome.DEAD_LETTERED, Outcome.PARKED, Outcome.HANDLED, Outcome.PARKED]
    assert await applied(applied_db, "ref-1") == [] and await applied(applied_db, "ref-2") == [7]
    async with applied_db.acquire() as conn:
        [letter] = await list_dead_letters(conn)
        assert letter["parked"] == 2
        assert [p["offset"] for p in await list_parked(conn)] == [1, 3]

    assert await release_parked(consumer) == 0  # nothing leaves the parking before the fix

    consumer.handler = lambda conn, event: apply(conn, event.with_payload(1, {"n": event.data["n"]}))
    assert await replay_in_process(applied_db, letter["id"], consumer) is Outcome.HANDLED
    assert await release_parked(consumer) == 2

    assert await applied(applied_db, "ref-1") == [1, 2, 3]
    async with applied_db.acquire() as conn:
        assert await list_parked(conn) == [] and await list_dead_letters(conn) == []


async def test_a_discarded_dead_letter_releases_its_stream_without_ever_applying_it(
    applied_db: asyncpg.Pool,
) -> None:
    consumer = IdempotentConsumer(applied_db, "discarding", apply, retry=FAST)
    await consumer.process(delivery("ref-1", 0, n=1, poison=True))
    await consumer.process(delivery("ref-1", 1, n=2))
    async with applied_db.acquire() as conn:
        [letter] = await list_dead_letters(conn)

        discarded = await discard(conn, letter["id"])
    released = await release_parked(consumer)

    assert discarded["discarded_at"] is not None and released == 1
    assert await applied(applied_db, "ref-1") == [2]
    redelivered = await consumer.process(delivery("ref-1", 0, n=1, poison=True))
    assert redelivered is Outcome.DEAD_LETTERED  # a new event id: the test's helper makes a new one


async def test_a_released_event_that_fails_becomes_the_dead_letter_and_the_rest_stay_parked(
    applied_db: asyncpg.Pool,
) -> None:
    consumer = IdempotentConsumer(applied_db, "again", apply, retry=FAST)
    await consumer.process(delivery("ref-1", 0, n=1, poison=True))
    await consumer.process(delivery("ref-1", 1, n=2, poison=True))
    await consumer.process(delivery("ref-1", 2, n=3))
    async with applied_db.acquire() as conn:
        [letter] = await list_dead_letters(conn)
        await discard(conn, letter["id"])

    await release_parked(consumer)

    assert await applied(applied_db, "ref-1") == []
    async with applied_db.acquire() as conn:
        [second_letter] = await list_dead_letters(conn)
        assert (second_letter["offset"], second_letter["parked"]) == (1, 1)
        assert [p["offset"] for p in await list_parked(conn)] == [2]


class FlakyKeyring(LocalKeyring):
    """A key custodian that does not answer the first `down` requests for keys (restarting)."""

    def __init__(self, down: int) -> None:
        super().__init__()
        self.down = down

    async def release(self, key_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, DataKey]:
        if self.down > 0:
            self.down -= 1
            raise KeyringUnavailable("key custodian unreachable: ConnectError")
        return await super().release(key_ids)


async def test_a_sealed_event_met_while_the_key_custodian_is_down_is_waited_for_never_dead_lettered(
    applied_db: asyncpg.Pool,
) -> None:
    # given a sealed event, and a custodian that fails more often than the handler's attempts
    keyring = FlakyKeyring(down=0)
    vault = Vault(keyring)
    data = await vault.seal("InvitationSent", 1, example_payload(InvitationSent))
    assert next(sealed_values(data), None) is not None
    keyring.down = FAST.attempts * 2
    seen: list[dict[str, Any]] = []

    async def remember(conn: asyncpg.Connection, event: RecordedEvent) -> None:
        seen.append(event.data)

    consumer = IdempotentConsumer(applied_db, "sealed", remember, retry=FAST, vault=vault)
    at = datetime(2026, 3, 2, 10, tzinfo=UTC)
    event = RecordedEvent(
        1, "inv-1", 1, uuid.uuid4(), "InvitationSent", 1, data, at, at, COACH, str(uuid.uuid4()), None
    )

    # when it is delivered
    outcome = await consumer.process(Delivery("icam.invitation.events", 0, 0, b"inv-1", event.to_json()))

    # then it is handled, opened, once the custodian answers again, and nothing is dead-lettered
    assert outcome is Outcome.HANDLED and keyring.down == 0
    assert seen[0]["members"][0]["given_name"] == example_payload(InvitationSent)["members"][0]["given_name"]
    async with applied_db.acquire() as conn:
        assert await list_dead_letters(conn) == []
