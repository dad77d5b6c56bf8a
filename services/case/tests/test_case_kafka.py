"""The case service between real Kafka topics: facts in, case events out through the outbox."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from incoming import deliver, invitation_sent, publish, referred, returned

from icam_kernel.testing import read_topic

pytestmark = pytest.mark.integration


async def wait_for(predicate, timeout: float = 20.0, every: float = 0.1):
    """Poll `predicate()` until it returns something truthy."""
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if value := await predicate():
            return value
        await asyncio.sleep(every)
    raise AssertionError("condition not met in time")


async def case_events(case_app, expected: int, case_id: str | None = None) -> list[dict]:
    messages = await read_topic(case_app.kafka_bootstrap, case_app.settings.topics.case, expected)
    values = [m["value"] | {"_key": m["key"]} for m in messages]
    return [v for v in values if case_id is None or v["stream_id"] == case_id]


async def test_an_invitation_sent_on_the_invitation_topic_opens_a_case_on_the_case_topic(case_app):
    household = uuid.uuid4()
    [sent] = await publish(
        case_app.kafka_bootstrap, case_app.settings.topics.invitation, [invitation_sent(household)]
    )
    events = await wait_for(lambda: _opened_for(case_app, household))
    opened = events[0]
    assert opened["event_type"] == "CaseOpened"
    assert opened["_key"] == opened["stream_id"].encode()
    assert opened["data"]["entry_channel"] == "invitation_letter" and opened["data"]["household_id"] == str(
        household
    )
    assert opened["correlation_id"] == sent.correlation_id and opened["causation_id"] == str(sent.event_id)
    assert opened["actor"]["role"] == "system"


async def _opened_for(case_app, household: uuid.UUID) -> list[dict] | None:
    async with case_app.service.pool.acquire() as conn:
        case_id = await conn.fetchval("select case_id from open_cases where household_id = $1", household)
    if case_id is None:
        return None
    events = await case_events(case_app, 1, str(case_id))
    return events or None


async def test_a_voluntary_return_on_the_referral_topic_closes_the_trajectory_as_departed(case_app):
    household = uuid.uuid4()
    await deliver(case_app, invitation_sent(household))
    async with case_app.service.pool.acquire() as conn:
        case_id = await conn.fetchval("select case_id from open_cases where household_id = $1", household)
    headers = case_app.headers()
    interview = {
        "occurred_at": _now(),
        "kind": "intake",
        "language": "fr",
        "attendees": ["8123456"],
        "interpreter_present": False,
    }
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview, headers=headers)
    decision = {
        "outcome": "return_accepted",
        "rationale": "no stay possible",
        "communicated": "return programme explained",
        "communicated_in": "fr",
        "consent_to_referral": True,
    }
    decided = await case_app.client.post(f"/cases/{case_id}/outcome", json=decision, headers=headers)
    referral = referred(household, case_id, uuid.UUID(decided.json()["id"]))
    topic = case_app.settings.topics.referral
    await publish(
        case_app.kafka_bootstrap, topic, [referral, returned(household, case_id, referral.referral_id)]
    )

    async def closed() -> list[dict] | None:
        events = await case_events(case_app, 1, str(case_id))
        return [e for e in events if e["event_type"] == "TrajectoryClosed"] or None

    [closure] = await wait_for(closed)
    assert closure["data"]["reason"] == "departed_voluntarily"
    assert closure["data"]["final_outcome"] == "return_accepted"
    case = (await case_app.client.get(f"/cases/{case_id}", headers=headers)).json()
    assert (case["status"], case["referral_status"]) == ("closed", "departed")
    async with case_app.service.pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from open_cases where household_id = $1", household) == 0


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat()
