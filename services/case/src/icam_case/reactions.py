"""What the case does with the other services' facts: the rows of its handler table.

Each row names the event, and a plan — the adapter step that finds the case the fact concerns —
returning the pure decision from `domain.react`. Every fact is also kept in `received_events` for
the case timeline. All of it runs in the kernel inbox's transaction.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Final
from uuid import UUID

import structlog

from icam_case import domain
from icam_case.config import CaseSettings
from icam_case.domain import Case
from icam_case.projections import TaskList
from icam_contracts.base import Event
from icam_contracts.enums import ActorRole, AppointmentChange, EntryChannel, RecipientKind
from icam_contracts.events import (
    AppointmentRequested,
    InvitationCancelled,
    InvitationNoShowRecorded,
    InvitationRescheduled,
    InvitationResponseRecorded,
    InvitationSent,
    NotificationFailed,
    ReferralAcknowledged,
    ReferralNotMade,
    ReferralOverdue,
    ReferralRejected,
    ReferralWithdrawn,
    ReferredToReturnPartner,
    VoluntaryReturnCompleted,
    WalkInRegistered,
)
from icam_contracts.events.case import ReferralStatus
from icam_contracts.events.decisions import TrajectoryClosed
from icam_kernel.application import Application, Plan
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.reactions import HandlerTable, When

log = structlog.get_logger(__name__)

_CASE_IDS: Final = uuid.UUID("b3a0f3c4-2c55-4a8e-8f5e-0d7c1c9b6e21")
_REFERRAL_STATUS: Final[dict[type[Event], ReferralStatus]] = {
    ReferredToReturnPartner: ReferralStatus.REFERRED,
    ReferralAcknowledged: ReferralStatus.ACKNOWLEDGED,
    ReferralRejected: ReferralStatus.REJECTED,
    ReferralOverdue: ReferralStatus.OVERDUE,
    ReferralNotMade: ReferralStatus.NOT_MADE,
}


async def claim_household(
    conn: Connection, household_id: uuid.UUID, cause: uuid.UUID
) -> tuple[uuid.UUID, bool]:
    """The household's open case, or a new one claimed for it: exactly one open case per household.

    A racing opener blocks on the primary key until the winner commits, then finds its case.
    """
    new_id = uuid.uuid5(_CASE_IDS, str(cause))
    won = await conn.fetchval(
        """insert into open_cases (household_id, case_id) values ($1, $2)
           on conflict (household_id) do nothing returning case_id""",
        household_id,
        new_id,
    )
    if won is not None:
        return new_id, True
    existing = await conn.fetchval("select case_id from open_cases where household_id = $1", household_id)
    return existing, False


async def open_case_of(conn: Connection, household_id: uuid.UUID) -> uuid.UUID | None:
    value = await conn.fetchval("select case_id from open_cases where household_id = $1", household_id)
    return value if isinstance(value, uuid.UUID) else None


async def free_household(conn: Connection, closed: TrajectoryClosed) -> None:
    """Policy on TrajectoryClosed: the household may have a new case from its next first contact."""
    await conn.execute("delete from open_cases where case_id = $1", closed.case_id)


class CaseReactions:
    """The plans of the case's handler table, bound to the service's settings."""

    def __init__(self, settings: CaseSettings) -> None:
        self.settings = settings
        self.system = domain.Decider(
            "icam-case", ActorRole.SYSTEM, settings.legal_basis, settings.policy_version
        )

    async def invitation_sent(self, conn: Connection, ev: InvitationSent, rec: RecordedEvent) -> Plan[Case]:
        """An invitation opens the household's case, or joins the case it has open."""
        case_id, opened = await claim_household(conn, ev.household_id, rec.event_id)
        if not opened:
            return Plan(
                str(case_id),
                lambda case: domain.attach_invitation(case, ev.invitation_id, ev.appointment_at, ev.attempt),
            )
        opening = domain.open_case(
            case_id=case_id,
            household_id=ev.household_id,
            region=ev.region,
            office=ev.office,
            coach_id=ev.coach_id,
            entry_channel=ev.entry_channel,
            origin_id=ev.invitation_id,
            language=ev.language,
            members=ev.members,
            appointment_at=ev.appointment_at,
        )
        return Plan(str(case_id), lambda case: opening, requires_existing=False)

    async def walk_in(self, conn: Connection, ev: WalkInRegistered, rec: RecordedEvent) -> Plan[Case] | None:
        """A walk-in opens a case when the household has none (else the visit is only noted)."""
        case_id, opened = await claim_household(conn, ev.household_id, rec.event_id)
        if not opened:
            return None
        desk = next((d for d in self.settings.reference.desks if d.code == ev.desk), None)
        opening = domain.open_case(
            case_id=case_id,
            household_id=ev.household_id,
            region=ev.region,
            office=self.settings.office_for(ev.region, desk.office if desk else None),
            coach_id=ev.coach_id,
            entry_channel=EntryChannel.WALK_IN,
            origin_id=ev.visit_id,
            language=ev.language,
            members=ev.members,
        )
        return Plan(str(case_id), lambda case: opening, requires_existing=False)

    async def appointment_requested(
        self, conn: Connection, ev: AppointmentRequested, rec: RecordedEvent
    ) -> Plan[Case] | None:
        """A helpline request opens a case when the household has none, in its region's office."""
        case_id, opened = await claim_household(conn, ev.household_id, rec.event_id)
        if not opened:
            return None
        region = ev.region or self.settings.default_region
        opening = domain.open_case(
            case_id=case_id,
            household_id=ev.household_id,
            region=region,
            office=self.settings.office_for(region),
            coach_id=None,
            entry_channel=ev.entry_channel,
            origin_id=ev.request_id,
            language=ev.language,
            members=ev.members,
        )
        return Plan(str(case_id), lambda case: opening, requires_existing=False)

    async def no_show(
        self, conn: Connection, ev: InvitationNoShowRecorded, rec: RecordedEvent
    ) -> Plan[Case] | None:
        case_id = await open_case_of(conn, ev.household_id)
        threshold = self.settings.no_show_threshold
        if case_id is None:
            return None
        return Plan(
            str(case_id),
            lambda case: domain.count_no_show(case, ev.invitation_id, ev.appointment_at, threshold=threshold),
        )

    async def appointment_moved(
        self, conn: Connection, ev: InvitationRescheduled | InvitationCancelled, rec: RecordedEvent
    ) -> Plan[Case] | None:
        """A rescheduled or cancelled invitation moves (or clears) the case's next interview due."""
        case_id = await open_case_of(conn, ev.household_id)
        if case_id is None:
            return None
        moved = isinstance(ev, InvitationRescheduled)
        change = AppointmentChange.MOVED if moved else AppointmentChange.CANCELLED
        at = ev.appointment_at if isinstance(ev, InvitationRescheduled) else None
        return Plan(str(case_id), lambda case: domain.appointment_changed(case, ev.invitation_id, change, at))

    async def referral_news(self, conn: Connection, ev: Event, rec: RecordedEvent) -> Plan[Case]:
        status = _REFERRAL_STATUS[type(ev)]
        reason = ev.reason if isinstance(ev, ReferralRejected) else None
        reason = ev.reason.value if isinstance(ev, ReferralNotMade) else reason
        return Plan(
            str(ev.case_id),  # type: ignore[attr-defined]
            lambda case: domain.note_referral(
                case,
                status,
                referral_id=getattr(ev, "referral_id", None),
                decision_id=getattr(ev, "decision_id", None),
                partner=getattr(ev, "partner", None),
                reason=reason,
            ),
        )

    async def referral_withdrawn(
        self, conn: Connection, ev: ReferralWithdrawn, rec: RecordedEvent
    ) -> Plan[Case]:
        reason = ev.reason.value if not ev.reason_text else f"{ev.reason.value}: {ev.reason_text}"
        return Plan(
            str(ev.case_id), lambda case: domain.withdraw_referral(case, ev.referral_id, ev.partner, reason)
        )

    async def return_completed(
        self, conn: Connection, ev: VoluntaryReturnCompleted, rec: RecordedEvent
    ) -> Plan[Case]:
        return Plan(
            str(ev.case_id),
            lambda case: domain.complete_return(case, ev.referral_id, ev.partner, decider=self.system),
        )

    async def notification_failed(
        self, conn: Connection, ev: NotificationFailed, rec: RecordedEvent
    ) -> Plan[Case] | None:
        if ev.will_retry or ev.recipient_kind is not RecipientKind.PERSON:
            return None
        case_id = ev.case_id or await open_case_of(conn, ev.household_id)
        if case_id is None:
            return None
        return Plan(
            str(case_id),
            lambda case: domain.flag_contact_problem(case, ev.notification_id, ev.channel, ev.error),
        )


def keep_for_timeline(tasks: TaskList) -> Callable[[Connection, Event, RecordedEvent], Awaitable[None]]:
    """Every fact received about a household goes on its case's timeline; an answer to an
    invitation also settles the case's task of chasing it."""

    async def keep(conn: Connection, ev: Event, rec: RecordedEvent) -> None:
        case_id = await _keep(conn, ev, rec)
        if case_id is not None and isinstance(ev, InvitationResponseRecorded):
            await tasks.refresh(conn, case_id)

    return keep


async def _keep(conn: Connection, ev: Event, rec: RecordedEvent) -> UUID | None:
    """Keep the fact as it was published (sealed where personal: erasure reaches this copy too)."""
    case_id = getattr(ev, "case_id", None) or await open_case_of(conn, ev.household_id)
    version, stored = rec.stored_payload
    await conn.execute(
        """insert into received_events (event_id, case_id, household_id, topic, event_type, event_version,
               data, actor, occurred_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           on conflict (event_id) do nothing""",
        rec.event_id,
        case_id,
        ev.household_id,
        type(ev).topic,
        rec.event_type,
        version,
        json.dumps(stored),
        json.dumps(rec.actor.to_dict()),
        rec.occurred_at,
    )
    return case_id if isinstance(case_id, UUID) else None


def handler_table(application: Application, settings: CaseSettings, tasks: TaskList) -> HandlerTable:
    """Which fact the case reacts to, and how (one table for every topic it reads)."""
    plans, CASE = CaseReactions(settings), domain.CASE
    return HandlerTable(
        application,
        When(InvitationSent, CASE, plans.invitation_sent),
        When(WalkInRegistered, CASE, plans.walk_in),
        When(AppointmentRequested, CASE, plans.appointment_requested),
        When(InvitationNoShowRecorded, CASE, plans.no_show),
        When(InvitationRescheduled, CASE, plans.appointment_moved),
        When(InvitationCancelled, CASE, plans.appointment_moved),
        When(ReferredToReturnPartner, CASE, plans.referral_news),
        When(ReferralAcknowledged, CASE, plans.referral_news),
        When(ReferralRejected, CASE, plans.referral_news),
        When(ReferralOverdue, CASE, plans.referral_news),
        When(ReferralNotMade, CASE, plans.referral_news),
        When(ReferralWithdrawn, CASE, plans.referral_withdrawn),
        When(VoluntaryReturnCompleted, CASE, plans.return_completed),
        When(NotificationFailed, CASE, plans.notification_failed),
        always=keep_for_timeline(tasks),
    )
