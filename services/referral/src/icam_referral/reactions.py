"""Reactions to case events, run by the kernel's idempotent consumer (inbox row + writes, one transaction).

The referral service learns the household (members, contact, region, language, coach) from the
case events it follows, and refers when an outcome says the person accepted a voluntary return.
"""

from __future__ import annotations

import json
from typing import TypeVar
from uuid import UUID

import structlog

from icam_contracts.enums import ClosureReason, Language, Outcome, ReferralWithdrawalReason, SuspensionReason
from icam_contracts.events import (
    CaseOpened,
    CaseTransferred,
    CoachAssigned,
    OutcomeDecided,
    ReferredToReturnPartner,
    TrajectoryClosed,
    TrajectorySuspended,
    VulnerabilityFlagged,
)
from icam_contracts.personal_data import PersonalData
from icam_contracts.registry import parse
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_referral import domain
from icam_referral.domain import Household
from icam_referral.referrals import SYSTEM, Referrals, referral_id_for

log = structlog.get_logger(__name__)
E = TypeVar("E")

_WITHDRAWAL_ON_CLOSURE = {
    ClosureReason.RETURN_REFUSED: ReferralWithdrawalReason.PERSON_CHANGED_MIND,
    ClosureReason.STAY_PROCEDURE_STARTED: ReferralWithdrawalReason.STAY_PROCEDURE_STARTED,
    ClosureReason.LOST_CONTACT: ReferralWithdrawalReason.CONTACT_LOST,
}


class HouseholdUnknown(LookupError):
    """An outcome arrived for a case whose opening this service never saw (retried, then dead-lettered)."""


class CaseReactions:
    """The handler of the case topic: one method per event type it cares about."""

    def __init__(self, referrals: Referrals) -> None:
        self.referrals = referrals
        self._handlers = {
            "CaseOpened": self.when_case_opened_remember_household,
            "CaseTransferred": self.when_case_transferred_follow_the_region,
            "CoachAssigned": self.when_coach_assigned_remember_the_coach,
            "VulnerabilityFlagged": self.when_vulnerability_flagged_update_the_member,
            "OutcomeDecided": self.when_outcome_decided_refer_to_partner,
            "TrajectorySuspended": self.when_trajectory_suspended_withdraw_referral,
            "TrajectoryClosed": self.when_trajectory_closed_withdraw_referral,
        }

    @property
    def event_types(self) -> frozenset[str]:
        """The case events this service acts on (the consumer passes over the others)."""
        return frozenset(self._handlers)

    async def __call__(self, conn: Connection, recorded: RecordedEvent) -> None:
        """Dispatch by event type; events of no interest are only marked as seen (by the inbox)."""
        handler = self._handlers.get(recorded.event_type)
        if handler is not None:
            await handler(conn, recorded)

    async def when_case_opened_remember_household(self, conn: Connection, recorded: RecordedEvent) -> None:
        """Keep the members, region, language and coach a later referral needs."""
        opened = _parse(recorded, CaseOpened)
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
        self, conn: Connection, recorded: RecordedEvent
    ) -> None:
        """A referral goes to a partner serving the region the household lives in now."""
        moved = _parse(recorded, CaseTransferred)
        await conn.execute(
            "update households set region = $2, updated_at = now() where case_id = $1",
            moved.case_id,
            moved.to_region,
        )

    async def when_coach_assigned_remember_the_coach(self, conn: Connection, recorded: RecordedEvent) -> None:
        """The assigned coach may record that the person withdrew."""
        assigned = _parse(recorded, CoachAssigned)
        await conn.execute(
            "update households set coach_id = $2, updated_at = now() where case_id = $1",
            assigned.case_id,
            assigned.coach_id,
        )

    async def when_vulnerability_flagged_update_the_member(
        self, conn: Connection, recorded: RecordedEvent
    ) -> None:
        """Add the categories to the member; the referral later shares only the return-relevant ones."""
        flagged = _parse(recorded, VulnerabilityFlagged)
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

    async def when_outcome_decided_refer_to_partner(self, conn: Connection, recorded: RecordedEvent) -> None:
        """Return accepted: exactly one referral (or one `ReferralNotMade`) per decision."""
        decided = _parse(recorded, OutcomeDecided)
        cause = str(recorded.event_id)
        if decided.revises_decision_id is not None:
            await self._withdraw_revised(conn, decided, cause)
        if decided.outcome is not Outcome.RETURN_ACCEPTED:
            return
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
            return
        settings = self.referrals.settings
        outcome = domain.decide_referral(
            household=household,
            decision_id=decided.decision_id,
            consent=decided.consent_to_referral,
            preferred_partner=decided.preferred_partner,
            consent_recorded_at=recorded.occurred_at,
            referral_id=referral_id_for(decided.decision_id, 1),
            catalogue=settings.catalogue,
            calendar=settings.calendar,
            shared_vulnerabilities=settings.shared_vulnerabilities,
        )
        journey = recorded.correlation_id
        if isinstance(outcome, ReferredToReturnPartner):
            await self.referrals.refer(conn, outcome, actor=SYSTEM, correlation=journey, cause=cause)
        else:
            await self.referrals.not_made(conn, outcome, actor=SYSTEM, correlation=journey, cause=cause)

    async def _withdraw_revised(self, conn: Connection, decided: OutcomeDecided, cause: str) -> None:
        """A revised decision supersedes the referral of the decision it replaces, while still open."""
        referral_id = await conn.fetchval(
            "select referral_id from referral_decisions where decision_id = $1", decided.revises_decision_id
        )
        if referral_id is None:
            return
        await self.referrals.withdraw_open(
            conn,
            referral_id,
            reason=ReferralWithdrawalReason.OUTCOME_REVISED,
            text=f"superseded by decision {decided.decision_id}",
            cause=cause,
        )

    async def when_trajectory_suspended_withdraw_referral(
        self, conn: Connection, recorded: RecordedEvent
    ) -> None:
        """A new stay procedure ends the return preparation; public-order suspensions do not."""
        suspended = _parse(recorded, TrajectorySuspended)
        if suspended.reason is SuspensionReason.STAY_PROCEDURE_STARTED:
            await self._withdraw_case(
                conn,
                suspended.case_id,
                ReferralWithdrawalReason.STAY_PROCEDURE_STARTED,
                "trajectory suspended",
                recorded,
            )

    async def when_trajectory_closed_withdraw_referral(
        self, conn: Connection, recorded: RecordedEvent
    ) -> None:
        """A trajectory closed for any reason but the departure itself withdraws its open referral."""
        closed = _parse(recorded, TrajectoryClosed)
        if closed.reason is ClosureReason.DEPARTED_VOLUNTARILY:
            return
        reason = _WITHDRAWAL_ON_CLOSURE.get(closed.reason, ReferralWithdrawalReason.OTHER)
        await self._withdraw_case(
            conn, closed.case_id, reason, f"trajectory closed: {closed.reason}", recorded
        )

    async def _withdraw_case(
        self,
        conn: Connection,
        case_id: UUID,
        reason: ReferralWithdrawalReason,
        text: str,
        recorded: RecordedEvent,
    ) -> None:
        rows = await conn.fetch(
            """select referral_id from referral_view
               where case_id = $1 and status in ('referred', 'acknowledged')""",
            case_id,
        )
        for row in rows:
            await self.referrals.withdraw_open(
                conn, row["referral_id"], reason=reason, text=text, cause=str(recorded.event_id)
            )


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


def _parse(recorded: RecordedEvent, model: type[E]) -> E:
    event = parse(recorded.event_type, recorded.event_version, recorded.data)
    assert isinstance(event, model), f"{recorded.event_type} parsed as {type(event).__name__}"
    return event
