"""Sealing what was stored before sealing existed (ADR 0013).

Each clear row of a service's event store is sealed in place — same event id, stream, version and
global position, so projections, checkpoints and inboxes stay valid — and only after the sealed
payload, opened again, equals the row it replaces; a mismatch stops the run before that batch
commits. Copies of events kept by read models (`received_events`) and the records kept in dead
letters are sealed the same way. Then the sealed events are queued in the outbox once more, so the
relay publishes sealed copies (consumers drop them by event id); the clear records below the
watermark taken before can then be deleted from the topic (`icam privacy seal-existing`).
Running it again seals nothing twice.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from icam_kernel.sealing import Vault, plan_for, sealed_values

_SEALED = "data::text like '%sealed:v1:%'"
# (table, key column, column of the payload, whether the payload is a whole envelope)
_EVENT_TABLES = (("events", "global_position", "data"), ("received_events", "event_id", "data"))


class SealingMismatch(Exception):
    """A sealed payload did not open to the row it was to replace: nothing of its batch changed."""


@dataclass
class SealingReport:
    sealed: dict[str, int] = field(default_factory=dict)  # per table, rows sealed
    already: int = 0  # rows sealed before, or with nothing personal
    republished: int = 0  # sealed events queued again for the relay


def _same(before: Any, after: Any) -> bool:
    """Equal once the `sealed: null` an opened payload carries is set aside."""
    return bool(_without_empty_seals(before) == _without_empty_seals(after))


def _without_empty_seals(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _without_empty_seals(v) for k, v in node.items() if not (k == "sealed" and v is None)}
    if isinstance(node, list):
        return [_without_empty_seals(v) for v in node]
    return node


async def _sealed_copy(vault: Vault, event_type: str, version: int, data: dict[str, Any]) -> Any:
    """The payload sealed and verified, or None when there is nothing to seal."""
    if plan_for(event_type, version).empty or next(sealed_values(data), None) is not None:
        return None
    sealed = await vault.seal(event_type, version, data)
    if next(sealed_values(sealed), None) is None:
        return None  # personal fields all empty: nothing to hide
    if not _same(data, await vault.open(sealed)):
        raise SealingMismatch(f"a sealed {event_type} v{version} does not open to its original")
    return sealed


async def _seal_table(
    conn: Any, vault: Vault, table: str, key: str, column: str, batch: int
) -> tuple[int, int]:
    if not await conn.fetchval("select to_regclass($1) is not null", table):
        return 0, 0
    sealed = already = 0
    last: Any = None
    while True:
        rows = await conn.fetch(
            f"""select {key} as key, event_type, event_version, {column}::text as data from {table}
                where $1::text is null or {key}::text > $1::text order by {key}::text limit $2""",
            None if last is None else str(last),
            batch,
        )
        if not rows:
            return sealed, already
        async with conn.transaction():
            for row in rows:
                copy = await _sealed_copy(
                    vault, row["event_type"], row["event_version"], json.loads(row["data"])
                )
                if copy is None:
                    already += 1
                    continue
                await conn.execute(
                    f"update {table} set {column} = $2::jsonb where {key} = $1 and {column}::text = $3",
                    row["key"],
                    json.dumps(copy),
                    row["data"],
                )
                sealed += 1
        last = rows[-1]["key"]


async def _seal_dead_letters(conn: Any, vault: Vault) -> int:
    """A dead letter keeps the record as it came: its envelope's payload is sealed in place."""
    sealed = 0
    for row in await conn.fetch("select id, value from dead_letters order by id"):
        try:
            envelope = json.loads(row["value"])
            copy = await _sealed_copy(
                vault, envelope["event_type"], envelope["event_version"], envelope["data"]
            )
        except (ValueError, KeyError, TypeError):
            continue  # poison that is not an envelope: it carries no contract to seal by
        if copy is not None:
            envelope["data"] = copy
            await conn.execute(
                "update dead_letters set value = $2 where id = $1", row["id"], json.dumps(envelope)
            )
            sealed += 1
    return sealed


async def seal_existing(
    pool: asyncpg.Pool, vault: Vault, *, topic: str | None = None, batch: int = 500
) -> SealingReport:
    """Seal every clear row of the service's store; with `topic`, queue the sealed events of the
    store again on that topic's outbox (the relay publishes the sealed copies)."""
    report = SealingReport()
    async with pool.acquire() as conn:
        for table, key, column in _EVENT_TABLES:
            sealed, already = await _seal_table(conn, vault, table, key, column, batch)
            report.sealed[table] = sealed
            report.already += already
        report.sealed["dead_letters"] = await _seal_dead_letters(conn, vault)
        if topic is not None:
            report.republished = await _queue_again(conn, topic)
    return report


async def _queue_again(conn: Any, topic: str) -> int:
    """Every event with something sealed, queued again for the relay (in store order)."""
    status: str = await conn.execute(
        f"""insert into outbox (position, topic)
           select global_position, $1 from events where {_SEALED}
           on conflict do nothing""",
        topic,
    )
    return int(status.split()[-1])


async def watermarks(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    """The end offset of each partition of `topic` now: below it, records may be in clear."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in await _partitions(bootstrap, topic)]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions)
        return ends
    finally:
        await consumer.stop()


async def lagging_groups(bootstrap: str, marks: dict[TopicPartition, int]) -> list[str]:
    """Consumer groups that have not read every partition up to its mark yet (deleting below the
    mark now would take clear records they still have to read, with no sealed copy before them)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        lagging = []
        for group, _ in await admin.list_consumer_groups():
            offsets = await admin.list_consumer_group_offsets(group, partitions=list(marks))
            reads = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
            if reads and any(reads.get(tp, 0) < mark for tp, mark in marks.items() if mark > 0):
                lagging.append(group)
        return sorted(lagging)
    finally:
        await admin.close()


async def copies_missing(pool: asyncpg.Pool, bootstrap: str, marks: dict[TopicPartition, int]) -> int:
    """How many sealed events of the store have no record above the marks yet: deleting below
    them then would leave such an event on the topic nowhere."""
    wanted = {str(r[0]) for r in await pool.fetch(f"select event_id from events where {_SEALED}")}
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(marks))
        for tp, mark in marks.items():
            consumer.seek(tp, mark)
        ends = await consumer.end_offsets(list(marks))
        while [tp for tp in marks if await consumer.position(tp) < ends[tp]]:
            for records in (await consumer.getmany(*marks, timeout_ms=500)).values():
                wanted -= {dict(r.headers).get("event_id", b"").decode() for r in records}
    finally:
        await consumer.stop()
    return len(wanted)


async def delete_below(bootstrap: str, marks: dict[TopicPartition, int]) -> None:
    """Delete the records below each mark (the clear ones; the sealed copies come after)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_records({tp: RecordsToDelete(mark) for tp, mark in marks.items() if mark > 0})
    finally:
        await admin.close()


async def _partitions(bootstrap: str, topic: str) -> list[int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
        return sorted(p["partition"] for p in described["partitions"])
    finally:
        await admin.close()
