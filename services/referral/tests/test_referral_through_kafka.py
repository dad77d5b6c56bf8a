"""Kafka in, Kafka out: an OutcomeDecided on the case topic becomes a ReferredToReturnPartner."""

import asyncio
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from icam_contracts.base import Event
from icam_contracts.envelope import Actor, EventEnvelope
from icam_contracts.events import CoachAssigned
from icam_kernel.events import RecordedEvent
from icam_kernel.inbox import IdempotentConsumer, Outcome
from icam_kernel.testing import read_topic
from icam_referral.referrals import referral_id_for

from .conftest import SECRET_NOTE, CaseFeed, Service, Topics, case_opened, outcome

pytestmark = pytest.mark.integration


async def test_an_outcome_decided_in_yields_a_referral_out(
    service: Service, case_feed: CaseFeed, topics: Topics, kafka_bootstrap: str
) -> None:
    case_id, household_id, journey = uuid4(), uuid4(), str(uuid4())
    # fields a partner must never receive, should a case event ever carry them
    notes = {"interview_notes": SECRET_NOTE}
    await case_feed.publish(case_opened(case_id, household_id), correlation_id=journey, extra_data=notes)
    decided = outcome(case_id, household_id)
    envelope = await case_feed.publish(decided, correlation_id=journey, extra_data=notes)

    [message] = await read_topic(kafka_bootstrap, topics.referral, expected=1)

    value = message["value"]
    referral_id = referral_id_for(decided.decision_id, 1)
    assert value["event_type"] == "ReferredToReturnPartner"
    assert message["key"] == str(referral_id).encode()
    assert value["correlation_id"] == journey
    assert value["causation_id"] == str(envelope.event_id)
    assert value["data"]["partner"] == "fedasil"
    assert value["data"]["decision_id"] == str(decided.decision_id)
    assert [m["person_id"] for m in value["data"]["members"]] == ["8123456", "8123457"]
    assert SECRET_NOTE not in str(value)


async def test_the_same_outcome_delivered_twice_makes_one_referral(
    service: Service, case_feed: CaseFeed
) -> None:
    case_id, household_id = uuid4(), uuid4()
    await case_feed.publish(case_opened(case_id, household_id))
    decided = outcome(case_id, household_id)
    envelope = await case_feed.publish(decided)
    await case_feed.send(envelope)  # a redelivery: the same event id
    await case_feed.publish(decided)  # the case service publishing the decision again: a new event id
    # a last event of the same case (same partition) tells when the three before were handled
    await case_feed.publish(
        CoachAssigned(household_id=household_id, case_id=case_id, coach_id="c-2", assigned_by="tl")
    )
    await service.until("select 1 from households where coach_id = 'c-2'")

    async with service.pool.acquire() as conn:
        referrals = await conn.fetchval(
            "select count(*) from events where event_type = 'ReferredToReturnPartner'"
        )
        decisions = await conn.fetchval("select count(*) from referral_decisions")
    assert (referrals, decisions) == (1, 1)


async def test_without_consent_the_case_is_told_why_no_referral_was_made(
    service: Service, case_feed: CaseFeed, topics: Topics, kafka_bootstrap: str
) -> None:
    case_id, household_id = uuid4(), uuid4()
    await case_feed.publish(case_opened(case_id, household_id))
    await case_feed.publish(outcome(case_id, household_id, consent=False))

    [message] = await read_topic(kafka_bootstrap, topics.referral, expected=1)

    assert message["value"]["event_type"] == "ReferralNotMade"
    assert message["key"] == str(case_id).encode()
    assert message["value"]["data"]["reason"] == "no_consent"


async def test_a_revised_decision_withdraws_the_earlier_referral_and_refers_anew(
    service: Service, case_feed: CaseFeed, topics: Topics, kafka_bootstrap: str
) -> None:
    case_id, household_id = uuid4(), uuid4()
    await case_feed.publish(case_opened(case_id, household_id))
    first = outcome(case_id, household_id)
    await case_feed.publish(first)
    revised = outcome(
        case_id,
        household_id,
        preferred_partner="iom",
        revises_decision_id=first.decision_id,
        revision_reason="x",
    )
    await case_feed.publish(revised)

    messages = await read_topic(kafka_bootstrap, topics.referral, expected=3)

    kinds = [(m["value"]["event_type"], m["value"]["data"].get("partner")) for m in messages]
    assert sorted(kinds) == sorted(
        [
            ("ReferredToReturnPartner", "fedasil"),
            ("ReferralWithdrawn", "fedasil"),
            ("ReferredToReturnPartner", "iom"),
        ]
    )
    withdrawn = next(m["value"]["data"] for m in messages if m["value"]["event_type"] == "ReferralWithdrawn")
    assert withdrawn["reason"] == "outcome_revised"
    assert UUID(withdrawn["referral_id"]) == referral_id_for(first.decision_id, 1)


async def test_two_consumers_racing_on_one_decision_make_one_referral(service: Service) -> None:
    handler = service.app.state.reactions
    for _ in range(5):
        case_id, household_id = uuid4(), uuid4()
        decided = outcome(case_id, household_id)
        opened = _recorded(case_opened(case_id, household_id))
        async with service.pool.acquire() as conn, conn.transaction():
            await handler(conn, opened)
        # two instances of the consumer group, each with its own delivery (and event id) of the decision
        first = IdempotentConsumer(service.pool, "race", handler)
        second = IdempotentConsumer(service.pool, "race", handler)
        same = _recorded(decided)
        outcomes = await asyncio.gather(
            first.handle_once(_recorded(decided)),
            second.handle_once(_recorded(decided)),
            first.handle_once(same),
            second.handle_once(same),
        )
        assert (
            outcomes.count(Outcome.DUPLICATE) == 1
        )  # the same event id: the inbox; the others: the decision key
        async with service.pool.acquire() as conn:
            streams = await conn.fetchval(
                "select count(distinct stream_id) from events where event_type = 'ReferredToReturnPartner' "
                "and data->>'decision_id' = $1",
                str(decided.decision_id),
            )
        assert streams == 1


def _recorded(event: Event) -> RecordedEvent:
    """The event as a consumer receives it, with a fresh event id."""
    now = datetime.now(UTC)
    envelope = EventEnvelope.wrap(
        event,
        event_id=uuid4(),
        stream_version=1,
        occurred_at=now,
        recorded_at=now,
        actor=Actor(id="coach-4711", role="coach"),
        correlation_id=str(uuid4()),
        causation_id=str(uuid4()),
    )
    return RecordedEvent.from_envelope(envelope.model_dump(mode="json"))
