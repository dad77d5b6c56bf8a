"""Exactly one open case per household, even when first contacts race or are delivered twice."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from incoming import (
    deliver,
    invitation_sent,
    no_show,
    notification_failed,
    publish,
    recorded,
    walk_in,
    withdrawn,
)

pytestmark = pytest.mark.integration


async def stream_types(case_app, household: uuid.UUID) -> dict[str, list[str]]:
    """Event types per case stream of the household's cases."""
    async with case_app.service.pool.acquire() as conn:
        rows = await conn.fetch(
            """select stream_id, event_type from events
               where stream_id in (select stream_id from events where event_type = 'CaseOpened'
                                   and data->>'household_id' = $1)
               order by stream_id, stream_version""",
            str(household),
        )
    streams: dict[str, list[str]] = {}
    for row in rows:
        streams.setdefault(row["stream_id"], []).append(row["event_type"])
    return streams


async def test_concurrent_first_contacts_of_one_household_open_exactly_one_case(case_app):
    household = uuid.uuid4()
    invitations = [invitation_sent(household, attempt=n) for n in range(1, 9)]
    await asyncio.gather(*(deliver(case_app, i) for i in invitations), deliver(case_app, walk_in(household)))
    streams = await stream_types(case_app, household)
    assert len(streams) == 1
    [types] = streams.values()
    assert types.count("CaseOpened") == 1
    assert types.count("InvitationAttached") == 8  # whoever opened, every invitation ends up attached once


async def test_a_redelivered_event_has_no_second_effect(case_app):
    household = uuid.uuid4()
    first = recorded(invitation_sent(household))
    await deliver(case_app, first)
    await deliver(case_app, first)
    async with case_app.service.pool.acquire() as conn:
        case_id = await conn.fetchval("select case_id from open_cases where household_id = $1", household)
    invitation = first.data["invitation_id"]
    twice = recorded(no_show(household, uuid.UUID(invitation)))
    await asyncio.gather(deliver(case_app, twice), deliver(case_app, twice))
    case = (await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers())).json()
    assert case["consecutive_no_shows"] == 1 and case["version"] == 3


async def test_enough_no_shows_in_a_row_mark_the_case_contact_lost(case_app):
    household = uuid.uuid4()
    sent = invitation_sent(household)
    await deliver(case_app, sent)
    for _ in range(2):
        await deliver(case_app, no_show(household, sent.invitation_id))
    load = await case_app.client.get(
        "/caseload", params={"status": "contact_lost"}, headers=case_app.headers()
    )
    assert any(
        i["household_id"] == str(household) and "contact_lost" in i["flags"] for i in load.json()["items"]
    )


async def test_a_failed_notification_and_a_withdrawn_referral_flag_the_case(case_app):
    household = uuid.uuid4()
    await deliver(case_app, invitation_sent(household))
    async with case_app.service.pool.acquire() as conn:
        case_id = await conn.fetchval("select case_id from open_cases where household_id = $1", household)
    await deliver(case_app, notification_failed(household, None))
    await deliver(case_app, withdrawn(household, case_id, uuid.uuid4()))
    case = (await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers())).json()
    assert "contact_problem" in case["flags"] and case["referral_status"] == "withdrawn"
    assert not case["outcome_reopened"]  # nothing decided yet: there is no outcome question to re-open


async def test_two_service_instances_consuming_racing_invitations_open_one_case(case_app_factory):
    household = uuid.uuid4()
    async with case_app_factory() as first:
        shared = {
            "prefix": first.settings.topics.case.removesuffix("icam.case.events"),
            "group": first.settings.consumer_group,
        }
        async with case_app_factory(database=first.database, **shared):
            invitations = [invitation_sent(household, attempt=n) for n in range(1, 7)]
            await publish(first.kafka_bootstrap, first.settings.topics.invitation, invitations)

            async def all_attached() -> dict | None:
                streams = await stream_types(first, household)
                attached = sum(t.count("InvitationAttached") for t in streams.values())
                return streams if attached == 6 else None

            deadline = asyncio.get_running_loop().time() + 30
            while (streams := await all_attached()) is None:
                assert asyncio.get_running_loop().time() < deadline, await stream_types(first, household)
                await asyncio.sleep(0.2)
    assert len(streams) == 1
    assert next(iter(streams.values())).count("CaseOpened") == 1
