"""Reactions to case events, run by the kernel's idempotent consumer (inbox row + writes, one transaction).

The referral service learns the household (members, contact, region, language, coach) from the
case events it follows, and refers when an outcome says the person accepted a voluntary return.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from uuid import UUID

import structlog

from icam_contracts.base import Event
from icam_contracts.enums import ClosureReason, Language, Outcome, ReferralWithdrawalReason, SuspensionReason
from icam_contracts.events import (
    CaseOpened,
    CaseTransferred,
    CoachAssigned,
    OutcomeDecided,
    TrajectoryClosed,
    TrajectorySuspended,
    VulnerabilityFlagged,
)
from icam_contracts.personal_data import PersonalData
from icam_kernel.application import Application, Plan
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.reactions import HandlerTable, Remember, When
from icam_referral import domain
from icam_referral.config import ReferralSettings
from icam_referral.domain import REFERRAL, Household, Referral
from icam_referral.referrals import NOT_MADE, referral_id_for

log = structlog.get_logger(__name__)

_WITHDRAWAL_ON_CLOSURE = {
    ClosureReason.RETURN_REFUSED: ReferralWithdrawalReason.PERSON_CHANGED_MIND,
    ClosureReason.STAY_PROCEDURE_STARTED: ReferralWithdrawalReason.STAY_PROCEDURE_STARTED,
    ClosureReason.LOST_CONTACT: ReferralWithdrawalReason.CONTACT_LOST,
}


class HouseholdUnknown(LookupError):
    """An outcome arrived for a case whose opening this service never saw (retried, then dead-lettered)."""


class CaseReactions:
    """The rows of the referral service's handler table for the case topic."""

    def __init__(self, settings: ReferralSettings) -> None:
        self.settings = settings

    def table(self, application: Application) -> HandlerTable:
        return HandlerTable(
            application,
            Remember(CaseOpened, self.when_case_opened_remember_household),
            Remember(CaseTransferred, self.when_case_transferred_follow_the_region),
            Remember(CoachAssigned, self.when_coach_assigned_remember_the_coach),
            Remember(VulnerabilityFlagged, self.when_vulnerability_flagged_update_the_member),
            When(OutcomeDecided, REFERRAL, self.when_outcome_revised_withdraw_its_referral),
            When(OutcomeDecided, REFERRAL, self.when_outcome_decided_refer_to_partner),
            When(TrajectorySuspended, REFERRAL, self.when_trajectory_suspended_withdraw_referral),
            When(TrajectoryClosed, REFERRAL, self.when_trajectory_closed_withdraw_referral),
        )

    async def when_case_opened_remember_household(
        self, conn: Connection, opened: CaseOpened, recorded: RecordedEvent
    ) -> None:
        """Keep the members, region, language and coach a later referral needs."""
        await conn.execute(
            """insert into households (case_id, household_id, region, language, coach_id, members)
               values ($1, $2, $3, $4, $5, $6)
               on conflict (case_id) do update set household_id = excluded.household_id,
               region = excluded.region, language = excluded.language, coach_id = excluded.coach_id,
               members = excluded.members, updated_at = now()""",
            opened.case_id,
            opened.household_id,
            opened.region,
            str(opened.language),
            opened.coach_id,
            json.dumps([m.model_dump(mode="json") for m in opened.members]),
        )

    async def when_case_transferred_follow_the_region(
        self, conn: Connection, moved: CaseTransferred, recorded: RecordedEvent
    ) -> None:
        """A referral goes to a partner serving the region the household lives in now."""
        await conn.execute(
            "update households set region = $2, updated_at = now() where case_id = $1",
            moved.case_id,
            moved.to_region,
        )

    async def when_coach_assigned_remember_the_coach(
        self, conn: Connection, assigned: CoachAssigned, recorded: RecordedEvent
    ) -> None:
        """The assigned coach may record that the person withdrew."""
        await conn.execute(
            "update households set coach_id = $2, updated_at = now() where case_id = $1",
            assigned.case_id,
            assigned.coach_id,
        )

    async def when_vulnerability_flagged_update_the_member(
        self, conn: Connection, flagged: VulnerabilityFlagged, recorded: RecordedEvent
    ) -> None:
        """Add the categories to the member; the referral later shares only the return-relevant ones."""
        household = await load_household(conn, flagged.case_id)
        if household is None:
            return
        members = [
            m.model_copy(
                update={
                    "vulnerabilities": tuple(
                        dict.fromkeys((*m.vulnerabilities, *flagged.person.vulnerabilities))
                    )
                }
            )
            if m.person_id == flagged.person.person_id
            else m
            for m in household.members
        ]
        await conn.execute(
            "update households set members = $2, updated_at = now() where case_id = $1",
            flagged.case_id,
            json.dumps([m.model_dump(mode="json") for m in members]),
        )

    async def when_outcome_decided_refer_to_partner(
        self, conn: Connection, decided: OutcomeDecided, recorded: RecordedEvent
    ) -> Plan[Referral] | None:
        """Return accepted: exactly one referral (or one `ReferralNotMade`) per decision."""
        if decided.outcome is not Outcome.RETURN_ACCEPTED:
            return None
        household = await load_household(conn, decided.case_id)
        if household is None:
            raise HouseholdUnknown(f"no CaseOpened seen for case {decided.case_id}")
        claimed = await conn.fetchval(
            """insert into referral_decisions (decision_id, case_id, region) values ($1, $2, $3)
               on conflict (decision_id) do nothing returning true""",
            decided.decision_id,
            decided.case_id,
            household.region,
        )
        if not claimed:
            log.info("decision_already_handled", decision_id=str(decided.decision_id))
            return None
        settings, referral_id = self.settings, referral_id_for(decided.decision_id, 1)
        decision = domain.decide_referral(
            household=household,
            decision_id=decided.decision_id,
            consent=decided.consent_to_referral,
            preferred_partner=decided.preferred_partner,
            consent_recorded_at=recorded.occurred_at,
            referral_id=referral_id,
            catalogue=settings.catalogue,
            calendar=settings.calendar,
            shared_vulnerabilities=settings.shared_vulnerabilities,
        )
        return Plan(str(referral_id), lambda _: [decision], requires_existing=False, extends=NOT_MADE)

    async def when_outcome_revised_withdraw_its_referral(
        self, conn: Connection, decided: OutcomeDecided, recorded: RecordedEvent
    ) -> Plan[Referral] | None:
        """A revised decision supersedes the referral of the decision it replaces, while still open."""
        if decided.revises_decision_id is None:
            return None
        referral_id = await conn.fetchval(
            "select referral_id from referral_decisions where decision_id = $1", decided.revises_decision_id
        )
        if referral_id is None:
            return None
        text = f"superseded by decision {decided.decision_id}"
        return Plan(str(referral_id), _withdraw_if_open(ReferralWithdrawalReason.OUTCOME_REVISED, text))

    async def when_trajectory_suspended_withdraw_referral(
        self, conn: Connection, suspended: TrajectorySuspended, recorded: RecordedEvent
    ) -> list[Plan[Referral]]:
        """A new stay procedure ends the return preparation; public-order suspensions do not."""
        if suspended.reason is not SuspensionReason.STAY_PROCEDURE_STARTED:
            return []
        reason = ReferralWithdrawalReason.STAY_PROCEDURE_STARTED
        return await _open_referrals(conn, suspended.case_id, reason, "trajectory suspended")

    async def when_trajectory_closed_withdraw_referral(
        self, conn: Connection, closed: TrajectoryClosed, recorded: RecordedEvent
    ) -> list[Plan[Referral]]:
        """A trajectory closed for any reason but the departure itself withdraws its open referral."""
        if closed.reason is ClosureReason.DEPARTED_VOLUNTARILY:
            return []
        reason = _WITHDRAWAL_ON_CLOSURE.get(closed.reason, ReferralWithdrawalReason.OTHER)
        return await _open_referrals(conn, closed.case_id, reason, f"trajectory closed: {closed.reason}")


def _withdraw_if_open(reason: ReferralWithdrawalReason, text: str) -> Callable[[Referral], list[Event]]:
    def decide(state: Referral) -> list[Event]:
        if state.status not in domain.OPEN:
            return []
        return domain.withdraw(state, reason=reason, reason_text=text)

    return decide


async def _open_referrals(
    conn: Connection, case_id: UUID, reason: ReferralWithdrawalReason, text: str
) -> list[Plan[Referral]]:
    rows = await conn.fetch(
        "select referral_id from referral_view where case_id = $1 and status in ('referred', 'acknowledged')",
        case_id,
    )
    return [Plan(str(row["referral_id"]), _withdraw_if_open(reason, text)) for row in rows]


async def load_household(conn: Connection, case_id: UUID) -> Household | None:
    """The household of `case_id` as learned from case events, or None."""
    row = await conn.fetchrow(
        """select case_id, household_id, region, language, members::text as members
           from households where case_id = $1""",
        case_id,
    )
    if row is None:
        return None
    return Household(
        case_id=row["case_id"],
        household_id=row["household_id"],
        region=row["region"],
        language=Language(row["language"]),
        members=tuple(PersonalData.model_validate(m) for m in json.loads(row["members"])),
    )
