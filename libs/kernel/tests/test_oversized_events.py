"""An event too large for its topic: refused at append; one the broker still refuses is moved aside
by the relay and the rest of the topic flows (issue 18, item 2)."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import asyncpg
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from icam_contracts.events import InterviewHeld
from icam_contracts.jsonschema_export import example_payload
from icam_kernel.dead_letters import list_refused, republish_refused
from icam_kernel.errors import EventTooLarge
from icam_kernel.events import NewEvent
from icam_kernel.http import install_problem_handlers
from icam_kernel.keyring import LocalKeyring
from icam_kernel.outbox import OutboxRelay
from icam_kernel.sealing import Vault
from icam_kernel.store import EventStore, ExpectedVersion, envelope_size
from icam_kernel.testing import COACH, new_event, read_topic

pytestmark = pytest.mark.integration


async def test_an_event_over_the_limit_is_refused_at_append_and_nothing_is_recorded(
    conn: asyncpg.Connection,
) -> None:
    store = EventStore("t", max_event_bytes=4_000)

    with pytest.raises(EventTooLarge) as refused:
        await store.append(conn, "case-1", [new_event(n=1), new_event(notes="x" * 5_000)], 0)

    assert refused.value.details == {
        "event_type": "InvitationSent",
        "size_bytes": refused.value.details["size_bytes"],
        "limit_bytes": 4_000,
    }
    assert refused.value.details["size_bytes"] > 5_000
    assert await conn.fetchval("select count(*) from events") == 0
    assert await conn.fetchval("select count(*) from outbox") == 0


def interview_v2(data: dict[str, object]) -> NewEvent:
    return dataclasses.replace(new_event("InterviewHeld", **data), event_version=2)


async def test_the_limit_applies_to_the_event_as_stored_sealed_not_to_its_clear_payload(
    conn: asyncpg.Connection,
) -> None:
    # given an interview whose envelope fits the limit in clear, but not once sealed
    interview = example_payload(InterviewHeld) | {"notes": "n" * 3_000}
    actor = json.dumps(COACH.to_dict())
    limit = envelope_size(json.dumps(interview), actor) + 100
    sealed = await Vault(LocalKeyring()).seal("InterviewHeld", 2, interview)
    assert envelope_size(json.dumps(sealed), actor) > limit
    store = EventStore("t", vault=Vault(LocalKeyring()), max_event_bytes=limit)

    # then its append is refused: the broker would be given the sealed one
    with pytest.raises(EventTooLarge):
        await store.append(conn, "case-1", [interview_v2(interview)], 0)
    assert await conn.fetchval("select count(*) from events") == 0


def test_an_event_too_large_is_a_413_problem_naming_the_type_and_sizes_not_the_content() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/cases/{case_id}/notes")
    async def add_note(case_id: str) -> None:
        raise EventTooLarge("CaseNoteAdded", 2_100_000, 1_000_000)

    response = TestClient(app).post("/cases/c-1/notes")

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:icam:problem:event-too-large"
    assert (body["event_type"], body["size_bytes"], body["limit_bytes"]) == (
        "CaseNoteAdded",
        2_100_000,
        1_000_000,
    )


async def _topic_with_limit(bootstrap: str, name: str, limit: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1, topic_configs={"max.message.bytes": str(limit)})])
    finally:
        await admin.close()


async def _raise_limit(bootstrap: str, name: str, limit: int) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.alter_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, configs={"max.message.bytes": str(limit)})]
        )
    finally:
        await admin.close()


async def test_a_row_the_broker_refuses_is_moved_aside_and_the_rest_of_the_topic_flows(
    db: asyncpg.Pool, kafka_bootstrap: str, unique_name: object
) -> None:
    # given a topic that takes records of at most 3,000 bytes, and an event of ~6,000 between others
    topic = unique_name("narrow")  # type: ignore[operator]
    await _topic_with_limit(kafka_bootstrap, topic, 3_000)
    store = EventStore(topic)  # the service's own limit is larger: the broker is stricter
    async with db.acquire() as conn:
        await store.append(conn, "case-1", [new_event(n=1)], ExpectedVersion.ANY)
        await store.append(conn, "case-1", [new_event(notes="x" * 6_000)], ExpectedVersion.ANY)
        for n in (3, 4):
            await store.append(conn, f"case-{n}", [new_event(n=n)], ExpectedVersion.ANY)
    before = REGISTRY.get_sample_value("icam_outbox_refused_total", {"topic": topic}) or 0
    relay = OutboxRelay(db, topic, bootstrap=kafka_bootstrap)

    # when the relay runs
    task = asyncio.create_task(relay.run())
    try:
        async with asyncio.timeout(30):
            while await _waiting(db):
                await asyncio.sleep(0.05)
        published = await read_topic(kafka_bootstrap, topic, 3)

        # then the three others are on the topic, the large one is set aside with its reason
        async with db.acquire() as conn:
            [refused] = await list_refused(conn)
        assert sorted(m["value"]["data"].get("n") for m in published) == [1, 3, 4]
        assert refused["event_type"] == "InvitationSent" and refused["size_bytes"] > 6_000
        assert "MessageSizeTooLarge" in refused["reason"] or "RecordTooLarge" in refused["reason"]
        assert (REGISTRY.get_sample_value("icam_outbox_refused_total", {"topic": topic}) or 0) - before == 1

        # and once the topic's limit is raised, it can be put back and is published
        await _raise_limit(kafka_bootstrap, topic, 100_000)
        async with db.acquire() as conn:
            await republish_refused(conn, refused["position"])
        relay.wake()
        assert len(await read_topic(kafka_bootstrap, topic, 4)) == 4
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def _waiting(db: asyncpg.Pool) -> bool:
    async with db.acquire() as conn:
        return bool(await conn.fetchval("select count(*) from outbox"))
