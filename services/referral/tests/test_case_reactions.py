"""What the referral service learns from case events, and how a changed case ends a referral."""

from uuid import UUID, uuid4

import pytest

from icam_auth import Role
from icam_contracts.enums import ActorRole, ClosureReason, SuspensionReason, VulnerabilityCategory
from icam_contracts.events import CaseTransferred, TrajectoryClosed, TrajectorySuspended, VulnerabilityFlagged
from icam_contracts.events.decisions import DecisionProvenance
from icam_contracts.personal_data import PersonalData
from icam_referral.referrals import referral_id_for

from .conftest import CaseFeed, Service, case_opened, outcome

pytestmark = pytest.mark.integration

PROVENANCE = DecisionProvenance(
    decided_by="coach-4711", role=ActorRole.COACH, legal_basis="x", policy_version="1"
)


async def test_the_referral_follows_the_region_and_shares_only_return_relevant_flags(
    service: Service, case_feed: CaseFeed
) -> None:
    case_id, household_id = uuid4(), uuid4()
    await case_feed.publish(case_opened(case_id, household_id))
    await case_feed.publish(
        CaseTransferred(
            household_id=household_id,
            case_id=case_id,
            from_region="brussels",
            to_region="liege",
            from_office="brussels",
            to_office="liege",
        )
    )
    flags = (VulnerabilityCategory.SERIOUS_ILLNESS, VulnerabilityCategory.VICTIM_OF_VIOLENCE)
    person = PersonalData(person_id="8123456", vulnerabilities=flags)
    await case_feed.publish(VulnerabilityFlagged(household_id=household_id, case_id=case_id, person=person))
    decided = outcome(case_id, household_id)
    await case_feed.publish(decided)

    referral_id = referral_id_for(decided.decision_id, 1)
    await service.until("select 1 from referral_view where referral_id = $1", referral_id)
    detail = (
        await service.client.get(f"/referrals/{referral_id}", headers=service.partner("fedasil"))
    ).json()

    assert detail["region"] == "liege"
    assert detail["members"][0]["vulnerabilities"] == ["serious_illness"]
    assert detail["members"][0]["contact"]["email"] == "a.example@example.org"


async def referred(case_feed: CaseFeed) -> tuple[UUID, UUID, UUID]:
    """A case whose outcome (return accepted) the referral service turned into a referral:
    (case id, household id, referral id)."""
    case_id, household_id = uuid4(), uuid4()
    await case_feed.publish(case_opened(case_id, household_id))
    decided = outcome(case_id, household_id)
    await case_feed.publish(decided)
    return case_id, household_id, referral_id_for(decided.decision_id, 1)


async def withdrawal_reason(service: Service, referral_id: UUID) -> str:
    found: str = await service.until(
        "select withdrawal_reason from referral_view where referral_id = $1 and status = 'withdrawn'",
        referral_id,
    )
    return found


@pytest.mark.parametrize(
    ("closure", "withdrawal"),
    [
        (ClosureReason.LOST_CONTACT, "contact_lost"),
        (ClosureReason.RETURN_REFUSED, "person_changed_mind"),
        (ClosureReason.STAY_PROCEDURE_STARTED, "stay_procedure_started"),
        (ClosureReason.TRANSFERRED, "other"),
        (ClosureReason.OTHER, "other"),
    ],
)
async def test_a_trajectory_closed_for_any_reason_but_the_departure_withdraws_the_open_referral(
    service: Service, case_feed: CaseFeed, closure: ClosureReason, withdrawal: str
) -> None:
    case_id, household_id, referral_id = await referred(case_feed)
    closed = TrajectoryClosed(
        household_id=household_id,
        case_id=case_id,
        reason=closure,
        reason_text="the household moved abroad" if closure is ClosureReason.OTHER else None,
        provenance=PROVENANCE,
    )
    await case_feed.publish(closed)

    reason = await withdrawal_reason(service, referral_id)
    assert reason == withdrawal


async def test_a_trajectory_closed_on_the_departure_leaves_the_referral_as_it_is(
    service: Service, case_feed: CaseFeed
) -> None:
    case_id, household_id, referral_id = await referred(case_feed)
    departed = TrajectoryClosed(
        household_id=household_id,
        case_id=case_id,
        reason=ClosureReason.DEPARTED_VOLUNTARILY,
        provenance=PROVENANCE,
    )
    stay = TrajectorySuspended(
        household_id=household_id,
        case_id=case_id,
        reason=SuspensionReason.STAY_PROCEDURE_STARTED,
        provenance=PROVENANCE,
    )
    # the same case's events are handled in order: the suspension after the closure finds the
    # referral still open only if the closure left it so
    await case_feed.publish(departed)
    await case_feed.publish(stay)

    reason = await withdrawal_reason(service, referral_id)
    assert reason == "stay_procedure_started"


async def test_an_outcome_for_an_unknown_case_is_dead_lettered_not_guessed(
    service: Service, case_feed: CaseFeed
) -> None:
    service.app.state.runtime._consumers[0].retry = type(service.app.state.runtime.retry)(
        attempts=2, backoff=0.01
    )
    await case_feed.publish(outcome(uuid4(), uuid4()))

    error = await service.until("select error_type from dead_letters")

    assert error == "HouseholdUnknown"


async def test_a_stay_procedure_suspends_the_trajectory_and_withdraws_the_referral(
    service: Service, case_feed: CaseFeed
) -> None:
    case_id, household_id, referral_id = await referred(case_feed)
    await case_feed.publish(
        TrajectorySuspended(
            household_id=household_id,
            case_id=case_id,
            reason=SuspensionReason.STAY_PROCEDURE_STARTED,
            provenance=PROVENANCE,
        )
    )

    reason = await withdrawal_reason(service, referral_id)
    assert reason == "stay_procedure_started"


async def test_decisions_without_referral_are_counted_by_reason(
    service: Service, case_feed: CaseFeed
) -> None:
    case_id, household_id = uuid4(), uuid4()
    await case_feed.publish(case_opened(case_id, household_id))
    await case_feed.publish(outcome(case_id, household_id, consent=False))
    await service.until("select 1 from referral_decisions where not_made is not null")

    stats = (await service.client.get("/stats/pipeline", headers=service.auth(Role.OPS_VIEWER))).json()

    assert stats["rows"] == []
    assert [(r["reason"], r["region"], r["count"]) for r in stats["not_made"]] == [
        ("no_consent", "brussels", 1)
    ]
