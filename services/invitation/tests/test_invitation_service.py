"""Integration: HTTP -> real PostgreSQL -> events on the real Kafka topic, and Kafka in -> events out."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from icam_auth import Role
from icam_contracts import Actor, EventEnvelope
from icam_contracts.events.case import Attendee, InterviewHeld
from icam_invitation.domain.calendar import BRUSSELS, WorkingHours
from icam_invitation.testing_service import Tokens, fixed_clock, running, settings_for
from icam_kernel import sealing
from icam_kernel.testing import read_topic
from icam_testing.invariants import consumer_lag

JOURNEY = "0b0d2a8e-41c4-4c3b-9c55-1f2e3d4c5b6a"

pytestmark = pytest.mark.integration

ADDRESS = {"street": "Rue Haute", "house_number": "1", "postal_code": "1000", "municipality": "Bruxelles"}
ADULT = {
    "role": "adult",
    "person_id": "8123456",
    "preferred_language": "fr",
    "contact": {"postal_address": ADDRESS},
}


def slot(days_ahead: int = 14, hour: int = 10, minute: int = 0, base: datetime | None = None) -> datetime:
    """A working-day slot at least ``days_ahead`` days from ``base`` (now)."""
    hours = WorkingHours()
    day = hours.next_working_day(
        ((base or datetime.now(UTC)) + timedelta(days=days_ahead)).astimezone(BRUSSELS).date()
    )
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BRUSSELS)


def invitation(at: datetime, **extra: Any) -> dict[str, Any]:
    return {"members": [ADULT], "appointment_at": at.isoformat(), "channels": ["postal_letter"], **extra}


@pytest.fixture
async def env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    database_url: str,
    kafka_bootstrap: str,
    kafka_topic: Callable[..., Any],
    unique_name: Callable[[str], str],
) -> dict[str, Any]:
    tokens = Tokens(tmp_path)
    monkeypatch.setenv("ICAM_AUTH_JWKS", str(tokens.issuer.jwks_path))
    monkeypatch.setenv("ICAM_AUTH_ISSUER", tokens.issuer.issuer)
    topics = (await kafka_topic("invitation"), await kafka_topic("case"))
    settings = settings_for(database_url, kafka_bootstrap, *topics, unique_name("invitation"))
    return {
        "tokens": tokens,
        "settings": settings,
        "topic": topics[0],
        "case_topic": topics[1],
        "kafka": kafka_bootstrap,
        "db": database_url,
    }


async def test_an_invitation_sent_over_http_is_published_on_the_invitation_topic(env: dict[str, Any]) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    household = str(uuid.uuid4())
    async with running(env["settings"]) as http:
        first = await http.post(
            "/invitations",
            json=invitation(slot(), household_id=household),
            headers={**coach, "X-Correlation-Id": JOURNEY},
        )
        assert first.status_code == 201, first.text
        second = await http.post("/invitations", json=invitation(slot(21)), headers=coach)
        again = await http.post(
            "/invitations", json=invitation(slot(28), household_id=household), headers=coach
        )
        messages = await read_topic(env["kafka"], env["topic"], 3)
    body = first.json()
    assert (body["stream_version"], body["household_id"], body["correlation_id"]) == (
        1,
        household,
        JOURNEY,
    )
    sent = next(m for m in messages if m["value"]["stream_id"] == body["stream_id"])
    assert sent["key"] == body["stream_id"].encode()
    assert sent["headers"]["event_type"] == b"InvitationSent"
    envelope = sent["value"]
    assert envelope["correlation_id"] == JOURNEY
    assert envelope["causation_id"] == body["command_id"]
    assert envelope["actor"]["id"] == "coach-1"
    assert (envelope["data"]["office"], envelope["data"]["region"], envelope["data"]["coach_id"]) == (
        "brussels",
        "brussels",
        "coach-1",
    )
    assert again.json()["correlation_id"] == JOURNEY  # one journey per household
    assert second.json()["correlation_id"] != JOURNEY


async def test_http_refusals_are_problems_naming_the_field(env: dict[str, Any]) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    no_address = {**ADULT, "contact": {"email": "a@example.org"}}
    async with running(env["settings"]) as http:
        missing = await http.post(
            "/invitations",
            json={**invitation(slot()), "members": [no_address], "channels": ["email"]},
            headers=coach,
        )
        abroad = {
            **ADULT,
            "contact": {"postal_address": {**ADDRESS, "postal_code": "75001", "country": "FR"}},
        }
        foreign = await http.post(
            "/invitations", json={**invitation(slot()), "members": [abroad]}, headers=coach
        )
        early = await http.post("/invitations", json=invitation(slot(0)), headers=coach)
        other_region = await http.post(
            "/invitations",
            json=invitation(slot()),
            headers=env["tokens"].header("coach-2", Role.COACH, "liege"),
        )
        other_coach = await http.post(
            "/invitations", json=invitation(slot(), coach_id="coach-9"), headers=coach
        )
        anonymous = await http.post("/invitations", json=invitation(slot()))
        ops = await http.post(
            "/invitations",
            json=invitation(slot()),
            headers=env["tokens"].header("ops", Role.OPS_VIEWER, None),
        )
        unknown = await http.get(f"/invitations/{uuid.uuid4()}", headers=coach)
    assert missing.status_code == 422
    assert missing.json()["field"] == "members[0].contact.postal_address.postal_code"
    assert missing.headers["content-type"] == "application/problem+json"
    assert (foreign.status_code, foreign.json()["field"]) == (
        422,
        "members[0].contact.postal_address.country",
    )
    assert early.status_code == 422 and "earliest_valid_date" in early.json()
    assert (other_region.status_code, other_coach.status_code, anonymous.status_code, ops.status_code) == (
        403,
        403,
        401,
        403,
    )
    assert unknown.status_code == 404


async def test_a_coach_cannot_be_double_booked_even_when_two_requests_race(env: dict[str, Any]) -> None:
    lead = env["tokens"].header("lead-1", Role.TEAM_LEAD)
    day = slot()
    async with running(env["settings"]) as http:
        for hour in (9, 11, 13, 15):
            a, b = await asyncio.gather(
                http.post(
                    "/invitations", json=invitation(day.replace(hour=hour), coach_id="coach-7"), headers=lead
                ),
                http.post(
                    "/invitations",
                    json=invitation(day.replace(hour=hour, minute=30), coach_id="coach-7"),
                    headers=lead,
                ),
            )
            assert sorted([a.status_code, b.status_code]) == [201, 409], (a.text, b.text)
            loser = a if a.status_code == 409 else b
            assert loser.json()["type"] == "urn:icam:problem:coach-double-booked"
        agenda = await http.get(f"/agenda/coaches/coach-7?day={day.date()}", headers=lead)
    assert agenda.json()["total"] == 4


async def test_reschedule_cancel_response_and_the_read_models(env: dict[str, Any]) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    ops = env["tokens"].header("ops", Role.OPS_VIEWER, None)
    async with running(env["settings"]) as http:
        sent = (await http.post("/invitations", json=invitation(slot()), headers=coach)).json()
        url = f"/invitations/{sent['stream_id']}"
        confirmed = await http.post(
            f"{url}/response", json={"response": "confirmed", "via": "email"}, headers=coach
        )
        moves = [
            await http.post(
                f"{url}/reschedule", json={"appointment_at": slot(15 + i).isoformat()}, headers=coach
            )
            for i in range(3)
        ]
        state = (await http.get(url, headers=coach)).json()
        office = await http.get(f"/agenda/offices/brussels?day={slot(16).date()}", headers=coach)
        cancelled = await http.post(
            f"{url}/cancel", json={"reason": "moved to another region"}, headers=coach
        )
        cancel_again = await http.post(f"{url}/cancel", json={"reason": "again"}, headers=coach)
        funnel = await http.get("/stats/funnel?group_by=region,entry_channel", headers=ops)
        ops_agenda = await http.get(f"/agenda/offices/brussels?day={slot(16).date()}", headers=ops)
    assert confirmed.status_code == 201
    assert [m.status_code for m in moves] == [201, 201, 409]
    assert (state["reschedules"], state["status"], state["stream_version"]) == (2, "sent", 4)
    assert office.json()["total"] == 1
    assert (cancelled.status_code, cancel_again.status_code) == (201, 409)
    row = funnel.json()["items"][0]
    assert (row["region"], row["invited"], row["confirmed"], row["cancelled"]) == ("brussels", 1, 1, 1)
    assert ops_agenda.status_code == 403


async def test_requests_and_walk_ins(env: dict[str, Any]) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    liege = env["tokens"].header("coach-3", Role.COACH, "liege")
    wednesday = datetime(2026, 3, 4, 10, tzinfo=BRUSSELS)
    settings = env["settings"].__class__(**{**env["settings"].__dict__, "clock": fixed_clock(wednesday)})
    async with running(settings) as http:
        request = await http.post(
            "/appointment-requests",
            headers=coach,
            json={
                "entry_channel": "helpline_phone",
                "language": "fr",
                "members": [ADULT],
                "subject": "information",
            },
        )
        rid = request.json()["stream_id"]
        invited = await http.post(
            f"/appointment-requests/{rid}/invite",
            headers=coach,
            json={"appointment_at": "2026-03-11T10:00:00+01:00", "channels": ["postal_letter"]},
        )
        closed_twice = await http.post(
            f"/appointment-requests/{rid}/close",
            headers=coach,
            json={"resolution": "withdrawn", "reason": "x"},
        )
        visit = await http.post(
            "/desks/liege_fragnee/visits",
            headers=liege,
            json={"members": [ADULT], "outcome": "interview_on_the_spot"},
        )
        log = await http.get("/desks/liege_fragnee/visits?day=2026-03-04", headers=liege)
        agenda = await http.get("/agenda/coaches/coach-3?day=2026-03-04", headers=liege)
    assert request.status_code == 201 and invited.status_code == 201, invited.text
    assert invited.json()["household_id"] == request.json()["household_id"]
    assert invited.json()["correlation_id"] == request.json()["correlation_id"]
    assert closed_twice.status_code == 409
    assert visit.status_code == 201, visit.text
    assert log.json()["items"][0]["outcome"] == "interview_on_the_spot"
    assert agenda.json()["items"][0]["kind"] == "walk_in"


async def test_a_walk_in_outside_opening_hours_says_when_the_desk_opens(env: dict[str, Any]) -> None:
    thursday = datetime(2026, 3, 5, 10, tzinfo=BRUSSELS)
    settings = env["settings"].__class__(**{**env["settings"].__dict__, "clock": fixed_clock(thursday)})
    async with running(settings) as http:
        refused = await http.post(
            "/desks/brussels_pacheco/visits",
            headers=env["tokens"].header("c", Role.COACH),
            json={"members": [ADULT], "outcome": "interview_on_the_spot"},
        )
    assert refused.status_code == 422
    assert refused.json()["next_opening"] == "2026-03-11T09:00:00+01:00"


async def _events(db: str, event_type: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(db)
    try:
        return await conn.fetch("select * from events where event_type = $1", event_type)
    finally:
        await conn.close()


async def test_the_no_show_timer_survives_a_restart_and_fires_once(env: dict[str, Any]) -> None:
    # A slot last week, booked "two weeks before it" (the service's clock); the real clock decides
    # when timers are due: the no-show falls due a few seconds from now.
    past_slot = slot(0, base=datetime.now(UTC) - timedelta(days=8))
    due_in = timedelta(seconds=6)
    grace = datetime.now(UTC) + due_in - past_slot - timedelta(hours=1)
    settings = env["settings"].__class__(
        **{
            **env["settings"].__dict__,
            "clock": fixed_clock(past_slot - timedelta(days=14)),
            "no_show_grace": grace,
        }
    )
    coach = env["tokens"].header("coach-1", Role.COACH)
    async with running(settings) as http:
        sent = (await http.post("/invitations", json=invitation(past_slot), headers=coach)).json()
    assert await _events(env["db"], "InvitationNoShowRecorded") == []  # stopped before it was due
    async with running(settings):
        for _ in range(60):
            if await _events(env["db"], "InvitationNoShowRecorded"):
                break
            await asyncio.sleep(0.5)
        await asyncio.sleep(1.5)  # a second firing would have happened by now
        messages = await read_topic(env["kafka"], env["topic"], 5, timeout=3)
    # the relay publishes at least once: a restart may send an event again, with the same event id
    published = {
        m["value"]["event_id"]: m["value"] for m in messages if m["value"]["stream_id"] == sent["stream_id"]
    }
    kinds = [e["event_type"] for e in published.values()]
    assert kinds.count("InvitationNoShowRecorded") == 1
    assert "InvitationReminderDue" in kinds
    no_shows = await _events(env["db"], "InvitationNoShowRecorded")
    assert len(no_shows) == 1 and no_shows[0]["correlation_id"] == sent["correlation_id"]


async def both_deliveries_consumed(bootstrap: str, topic: str, timeout: float = 20) -> None:
    """Wait on the condition, not a clock: the service's group committed past every delivery (of
    the partitions it committed on: send on one key)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while any((await consumer_lag(bootstrap, topic)).values()) or not await consumer_lag(bootstrap, topic):
        assert asyncio.get_running_loop().time() < deadline, f"{topic} still has records to consume"
        await asyncio.sleep(0.2)


async def send_held(
    env: dict[str, Any], sent: dict[str, Any], invitation_id: Any, occurred_at: datetime, times: int = 1
) -> EventEnvelope:
    """The case service's InterviewHeld for the invited household, delivered `times` times (on one
    case, so one partition: consumed in the order sent)."""
    held = InterviewHeld(
        household_id=uuid.UUID(sent["household_id"]),
        case_id=uuid.uuid5(uuid.NAMESPACE_URL, sent["household_id"]),
        interview_id=uuid.uuid4(),
        invitation_id=invitation_id,
        kind="intake",
        coach_id="coach-1",
        office="brussels",
        language="fr",
        attendees=(Attendee(person_id="8123456", member_role="adult"),),
    )
    envelope = EventEnvelope.wrap(
        held,
        event_id=uuid.uuid4(),
        stream_version=2,
        occurred_at=occurred_at,
        recorded_at=datetime.now(UTC),
        actor=Actor(id="coach-1", role="coach"),
        correlation_id=sent["correlation_id"],
        causation_id=str(uuid.uuid4()),
    )
    producer = AIOKafkaProducer(bootstrap_servers=env["kafka"])
    await producer.start()
    try:
        for _ in range(times):
            await producer.send_and_wait(
                env["case_topic"],
                envelope.kafka_value(),
                key=envelope.kafka_key(),
                headers=envelope.kafka_headers(),
            )
    finally:
        await producer.stop()
    return envelope


async def test_an_interview_held_marks_the_invitation_honoured(env: dict[str, Any]) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    async with running(env["settings"]) as http:
        sent = (await http.post("/invitations", json=invitation(slot()), headers=coach)).json()
        # a redelivery has no second effect
        envelope = await send_held(env, sent, uuid.UUID(sent["stream_id"]), datetime.now(UTC), times=2)
        messages = await read_topic(env["kafka"], env["topic"], 2, timeout=20)
        # once both deliveries are committed, a second effect would be in the store (same transaction)
        await both_deliveries_consumed(env["kafka"], env["case_topic"])
        state = (await http.get(f"/invitations/{sent['stream_id']}", headers=coach)).json()
    honoured = [m["value"] for m in messages if m["value"]["event_type"] == "InvitationHonoured"]
    assert len(honoured) == 1 and state["status"] == "honoured"
    assert honoured[0]["causation_id"] == str(envelope.event_id)
    assert honoured[0]["correlation_id"] == sent["correlation_id"]
    assert len(await _events(env["db"], "InvitationHonoured")) == 1
    assert json.loads(json.dumps(honoured[0]["data"]))["interview_id"] == str(envelope.data["interview_id"])


async def test_an_interview_without_an_invitation_id_honours_the_households_invitation_of_that_time(
    env: dict[str, Any],
) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    async with running(env["settings"]) as http:
        at = slot()
        sent = (await http.post("/invitations", json=invitation(at), headers=coach)).json()
        far_from_it = await send_held(env, sent, None, at - timedelta(days=10))  # an ad hoc meeting
        at_its_time = await send_held(env, sent, None, at + timedelta(minutes=20))  # a walk-in on the day
        await both_deliveries_consumed(env["kafka"], env["case_topic"])
        state = (await http.get(f"/invitations/{sent['stream_id']}", headers=coach)).json()
    honoured = await _events(env["db"], "InvitationHonoured")
    assert state["status"] == "honoured" and len(honoured) == 1
    assert str(honoured[0]["causation_id"]) == str(at_its_time.event_id) != str(far_from_it.event_id)


ARABIC_INDIC_1000 = "\u0661\u0660\u0660\u0660"  # "1000" in Arabic-Indic digits


def member(**changes: Any) -> dict[str, Any]:
    contact = {"postal_address": {**ADDRESS, **changes.pop("address", {})}, **changes.pop("contact", {})}
    return {**ADULT, "contact": contact, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"address": {"postal_code": ARABIC_INDIC_1000}}, "members.0.contact.postal_address.postal_code"),
        ({"address": {"postal_code": "999"}}, "members.0.contact.postal_address.postal_code"),
        ({"contact": {"email": "not-an-email"}}, "members.0.contact.email"),
        ({"contact": {"phone": "12"}}, "members.0.contact.phone"),
        ({"birth_date": "2999-01-01"}, "members.0.birth_date"),
        ({"given_name": "A" * 101}, "members.0.given_name"),
        ({"family_name": "Example\u0000"}, "members.0.family_name"),
    ],
)
async def test_what_would_reach_a_letter_is_checked_and_named(
    env: dict[str, Any], changes: dict[str, Any], field: str
) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    async with running(env["settings"]) as http:
        refused = await http.post(
            "/invitations", json={**invitation(slot()), "members": [member(**changes)]}, headers=coach
        )

    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == field
    assert (
        ARABIC_INDIC_1000 not in refused.text and "not-an-email" not in refused.text
    )  # the value typed is not echoed


async def test_a_postal_code_is_trimmed_and_a_phone_kept_in_e164(env: dict[str, Any]) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    person = member(
        address={"postal_code": " 1000\n"}, contact={"phone": "0470 12 34 56", "email": " A@Example.org "}
    )
    async with running(env["settings"]) as http:
        sent = await http.post(
            "/invitations", json={**invitation(slot()), "members": [person]}, headers=coach
        )
        messages = await read_topic(env["kafka"], env["topic"], 1)

    assert sent.status_code == 201, sent.text
    published = messages[0]["value"]["data"]
    assert "+32470123456" not in json.dumps(published)  # sealed on the topic
    vault = sealing.installed()
    assert vault is not None
    contact = (await vault.open(published))["members"][0]["contact"]
    assert contact["postal_address"]["postal_code"] == "1000"
    assert (contact["phone"], contact["email"]) == ("+32470123456", "A@example.org")


async def test_an_interview_more_than_a_year_ahead_is_refused(env: dict[str, Any]) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    async with running(env["settings"]) as http:
        refused = await http.post(
            "/invitations", json=invitation(datetime(9999, 3, 10, 10, tzinfo=BRUSSELS)), headers=coach
        )

    assert refused.status_code == 422
    assert refused.json()["type"] == "urn:icam:problem:slot-too-late"


async def test_an_invitation_retried_with_its_id_answers_the_first_result(env: dict[str, Any]) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    body = invitation(slot(), invitation_id=str(uuid.uuid4()))
    async with running(env["settings"]) as http:
        first = await http.post("/invitations", json=body, headers=coach)
        again = await http.post("/invitations", json=body, headers=coach)
        other = await http.post("/invitations", json={**body, "channels": ["email"]}, headers=coach)

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert other.status_code == 422 and other.json()["field"] == "invitation_id"


async def test_a_household_met_before_is_found_at_first_contact_and_the_coachs_decision_recorded(
    env: dict[str, Any],
) -> None:
    coach = env["tokens"].header("coach-1", Role.COACH)
    first = {
        **ADULT,
        "person_id": "OE-dup-1",
        "given_name": "Mohammed",
        "family_name": "Ali",
        "birth_date": "1988-03-14",
    }
    again = {"given_name": "محمد", "family_name": "علي", "birth_date": "1988-03-14"}
    async with running(env["settings"]) as http:
        sent = await http.post("/invitations", json={**invitation(slot()), "members": [first]}, headers=coach)
        found = await http.post("/duplicates/check", json={"members": [again]}, headers=coach)
        [candidate] = found.json()["candidates"]
        match = {"candidates": [candidate["household_id"]], "linked_to": candidate["household_id"]}
        linked = await http.post(
            "/invitations",
            json={**invitation(slot(21)), "members": [{**first, "person_id": "OE-dup-2"}], "match": match},
            headers=coach,
        )
        other_region = env["tokens"].header("coach-9", Role.COACH, region="liege")
        foreign = await http.post(
            "/invitations",
            json={**invitation(slot(28), office="liege"), "members": [first], "match": match},
            headers=other_region,
        )
        messages = await read_topic(env["kafka"], env["topic"], 3)

    assert candidate["household_id"] == sent.json()["household_id"] and candidate["yours"]
    assert "same birth date" in candidate["reasons"] and candidate["person_id"] == "OE-dup-1"
    assert linked.json()["household_id"] == sent.json()["household_id"]
    assert linked.json()["events"] == ["InvitationSent", "HouseholdMatchDecided"]
    decided = next(m["value"] for m in messages if m["value"]["event_type"] == "HouseholdMatchDecided")
    assert decided["data"]["decision"] == "linked" and decided["stream_id"] == sent.json()["household_id"]
    assert foreign.status_code == 403
