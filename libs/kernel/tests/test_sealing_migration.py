"""Sealing what was stored in clear before sealing existed (ADR 0013): in place, verified, once;
sealed copies published again and the clear records deleted from the topic; no event lost."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping

import asyncpg
import pytest

from icam_contracts.events import InterviewHeld, InvitationSent
from icam_contracts.jsonschema_export import example_payload
from icam_kernel import sealing
from icam_kernel.events import Actor, NewEvent
from icam_kernel.keyring import DataKey, LocalKeyring
from icam_kernel.outbox import OutboxRelay
from icam_kernel.sealing import Vault
from icam_kernel.sealing_migration import (
    SealingMismatch,
    copies_missing,
    delete_below,
    seal_existing,
    watermarks,
)
from icam_kernel.store import EventStore, ExpectedVersion
from icam_kernel.testing import read_topic

pytestmark = pytest.mark.integration

NAMES = ("Amina", "Амина", "أمينة", "brother lives in Liège")
ACTOR = Actor("icam-test", "system", "immigration_office")


def clear_events() -> list[NewEvent]:
    invited = example_payload(InvitationSent)
    invited["members"][0] |= {"given_name": "Amina", "family_name": "Амина أمينة"}
    held = example_payload(InterviewHeld) | {"notes": "Amina (أمينة): her brother lives in Liège"}
    return [
        NewEvent(InvitationSent.event_type, InvitationSent.event_version, invited, ACTOR, "c-1"),
        NewEvent(InterviewHeld.event_type, InterviewHeld.event_version, held, ACTOR, "c-1"),
    ]


async def stored_in_clear(db: asyncpg.Pool, topic: str) -> list[NewEvent]:
    """What a service wrote before it sealed anything (no vault installed)."""
    vault = sealing.installed()
    sealing.install(None)
    try:
        events = clear_events()
        async with db.acquire() as conn:
            await EventStore(topic).append(conn, "household-1", events, ExpectedVersion.NO_STREAM)
            envelope = {"event_type": events[0].event_type, "event_version": 1, "data": events[0].data}
            await conn.execute(
                """insert into dead_letters (consumer, topic, "partition", "offset", value, error_type,
                   error_message, attempts) values ('c', $1, 0, 0, $2, 'X', 'x', 1)""",
                topic,
                json.dumps(envelope),
            )
        return events
    finally:
        sealing.install(vault)


async def relay_all(db: asyncpg.Pool, topic: str, bootstrap: str) -> None:
    task = asyncio.create_task(OutboxRelay(db, topic, bootstrap=bootstrap, max_interval=0.01).run())
    try:
        async with asyncio.timeout(20):
            while await db.fetchval("select count(*) from outbox"):
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def in_clear(text: str) -> list[str]:
    return [n for n in NAMES if n in text]


async def test_clear_events_are_sealed_in_place_published_again_and_the_clear_records_deleted(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: Callable[..., Awaitable[str]]
) -> None:
    topic = await kafka_topic("legacy", partitions=1)
    originals = await stored_in_clear(db, topic)
    await relay_all(db, topic, kafka_bootstrap)
    assert in_clear(json.dumps(await read_topic(kafka_bootstrap, topic, 2), ensure_ascii=False, default=str))
    marks = await watermarks(kafka_bootstrap, topic)
    await asyncio.sleep(1.5)  # the clear copies are older than the rows queued again (a relay's reconcile)

    vault = sealing.installed()
    assert vault is not None
    report = await seal_existing(db, vault, topic=topic)
    assert (report.sealed, report.republished) == ({"events": 2, "received_events": 0, "dead_letters": 1}, 2)
    rows = await db.fetch("select data::text as data from events union all select value from dead_letters")
    assert not in_clear("".join(json.dumps(json.loads(r["data"]), ensure_ascii=False) for r in rows))
    async with db.acquire() as conn:
        read = await EventStore(topic).read_stream(conn, "household-1")
    models = (InvitationSent, InterviewHeld)
    assert [(e.event_id, m.model_validate(e.data)) for e, m in zip(read, models, strict=True)] == [
        (o.event_id, m.model_validate(o.data)) for o, m in zip(originals, models, strict=True)
    ]

    assert await copies_missing(db, kafka_bootstrap, marks) == 2  # deleting now would lose them
    await relay_all(db, topic, kafka_bootstrap)
    assert await copies_missing(db, kafka_bootstrap, marks) == 0
    await delete_below(kafka_bootstrap, marks)
    left = await read_topic(kafka_bootstrap, topic, 3, timeout=5)
    assert [m["value"]["event_id"] for m in left] == [str(o.event_id) for o in originals]
    assert not in_clear(json.dumps(left, ensure_ascii=False, default=str))

    again = await seal_existing(db, vault, topic=None)
    assert (again.sealed, again.already) == ({"events": 0, "received_events": 0, "dead_letters": 0}, 2)


class Forgetful(LocalKeyring):
    """Issues keys and then cannot give them back: a sealed copy would never open again."""

    async def release(self, key_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, DataKey]:
        return {k: DataKey(k, None) for k in key_ids}


async def test_a_sealed_copy_that_does_not_open_to_its_row_leaves_the_batch_as_it_was(
    db: asyncpg.Pool, kafka_topic: Callable[..., Awaitable[str]]
) -> None:
    topic = await kafka_topic("legacy", partitions=1)
    await stored_in_clear(db, topic)
    before = await db.fetch("select data::text from events order by global_position")
    with pytest.raises(SealingMismatch):
        await seal_existing(db, Vault(Forgetful()))
    assert await db.fetch("select data::text from events order by global_position") == before
