"""The sequencing policy of a consumer: a stream's events are applied in order, or not at all.

When an event of a stream (the Kafka key: the aggregate id) is dead-lettered in a consumer, the
later events of that stream in that consumer are parked — kept in `parked_events`, not applied —
until the dead letter is resolved: handled after a replay, or discarded. Then the parked events are
applied in the order they arrived, before any newer event of the stream (a newer one is parked
behind them meanwhile). Axon Framework's sequencing policy for dead letters is the model. Other
streams flow on.

`admit` decides for one record in the inbox's transaction, in one statement: handle it (the inbox
mark is inserted, and a dead letter it resolves is marked so), skip it (already handled), or park
it. A parked event released by `IdempotentConsumer.release_parked` passes the events parked after
it, and its parked row is deleted in the transaction that handles it.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Mapping
from typing import Any

import asyncpg

from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent

_ADMIT = """
with blocked as (
    select exists (
               select 1 from dead_letters d
               where d.consumer = $1 and d.key = $3 and d.resolved_at is null
                 and d.event_id <> $2)
           or (exists (
                   select 1 from parked_events p
                   where p.consumer = $1 and p.key = $3 and ($4::bigint is null or p.id < $4))
               and not exists (
                   select 1 from dead_letters d
                   where d.consumer = $1 and d.event_id = $2 and d.resolved_at is null)) as yes
), mark as (
    insert into inbox (consumer, event_id) select $1, $2 where not (select yes from blocked)
    on conflict do nothing
    returning true
), resolved as (
    update dead_letters set resolved_at = now()
    where consumer = $1 and event_id = $2 and resolved_at is null and exists (select 1 from mark)
    returning true
), released as (
    delete from parked_events where id = $4 and not (select yes from blocked)
    returning true
)
-- (the data-modifying parts run whether or not this select reads them)
select (select yes from blocked) as blocked, exists (select 1 from mark) as first
"""

_MARK = "insert into inbox (consumer, event_id) values ($1, $2) on conflict do nothing returning true"

_PARK = """
insert into parked_events (consumer, key, event_id, event_type, topic, "partition", "offset", value, headers)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
on conflict (consumer, event_id) do nothing
"""

_RELEASABLE = """
select distinct p.key from parked_events p
where p.consumer = $1 and not exists (
    select 1 from dead_letters d
    where d.consumer = $1 and d.key = p.key and d.resolved_at is null and d.event_id is not null)
limit $2
"""

_NEXT_PARKED = """
select id, topic, "partition", "offset", key, value, headers::text as headers from parked_events
where consumer = $1 and key = $2 order by id limit 1
"""


class Verdict(enum.Enum):
    HANDLE = "handle"
    DUPLICATE = "duplicate"
    PARK = "park"


async def admit(conn: Connection, consumer: str, key: str, event_id: Any, parked_id: int | None) -> Verdict:
    """Handle, skip or park this event; in the transaction that will handle it."""
    row = await conn.fetchrow(_ADMIT, consumer, event_id, key, parked_id)
    assert row is not None
    if row["blocked"]:
        return Verdict.PARK
    return Verdict.HANDLE if row["first"] else Verdict.DUPLICATE


async def park(
    conn: Connection,
    consumer: str,
    key: str,
    event_id: Any,
    event_type: str,
    where: tuple[str, int, int],
    value: bytes,
    headers: dict[str, str],
) -> None:
    """Keep a record behind its stream's dead letter (once, however often it is delivered)."""
    topic, partition, offset = where
    await conn.execute(
        _PARK,
        consumer,
        key,
        event_id,
        event_type,
        topic,
        partition,
        offset,
        value.decode(errors="replace"),
        json.dumps(headers),
    )


async def releasable_streams(conn: Connection, consumer: str, limit: int = 100) -> list[str]:
    """Streams with parked events whose dead letters are all resolved."""
    return [r["key"] for r in await conn.fetch(_RELEASABLE, consumer, limit)]


async def next_parked(conn: Connection, consumer: str, key: str) -> dict[str, Any] | None:
    """The oldest parked event of a stream, or None."""
    row = await conn.fetchrow(_NEXT_PARKED, consumer, key)
    if row is None:
        return None
    item = dict(row)
    item["headers"] = json.loads(item["headers"])
    return item


async def parked_behind(conn: Connection, consumer: str, key: str | None) -> int:
    """How many events of the stream wait behind its dead letter."""
    if key is None:
        return 0
    count = await conn.fetchval(
        "select count(*) from parked_events where consumer = $1 and key = $2", consumer, key
    )
    return int(count)


async def record_dead_letter(
    pool: asyncpg.Pool,
    consumer: str,
    delivery: Any,
    event: RecordedEvent | None,
    headers: Mapping[str, str],
) -> None:
    """Keep the dead letter, and mark the event as dealt with in the inbox so that a redelivery
    neither runs the handler again nor dead-letters it twice (replay removes that mark).

    It holds back its stream in this consumer until resolved (`sequencing`); an unreadable record
    (no event id) holds back nothing. A replayed dead letter that fails again is superseded by the new
    one; a released parked event that fails leaves the parking as the new dead letter."""
    key = delivery.key.decode(errors="replace") if delivery.key is not None else None
    if key is None and event is not None:
        key = event.stream_id
    async with pool.acquire() as conn, conn.transaction():
        if event is not None:
            if not await conn.fetchval(_MARK, consumer, event.event_id):
                return
            await conn.execute(
                "update dead_letters set resolved_at = now() where consumer = $1 and event_id = $2"
                " and resolved_at is null",
                consumer,
                event.event_id,
            )
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
            key,
            delivery.value.decode(errors="replace"),
            json.dumps({k: v.decode(errors="replace") for k, v in delivery.headers}),
            headers["error_type"],
            headers["error_message"],
            int(headers["attempts"]),
        )
        if delivery.parked_id is not None:
            await conn.execute("delete from parked_events where id = $1", delivery.parked_id)
