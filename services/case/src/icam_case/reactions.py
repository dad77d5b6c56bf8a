"""Kafka subscribers: what the case does with the invitation, referral and notification services' facts.

Every handler runs inside the kernel's inbox transaction (dedupe + handler + append commit
together). The facts are also kept in `received_events` for the case timeline.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Final

import structlog

from icam_case import domain
from icam_case.codec import fold_recorded, to_new_events
from icam_case.commands import append_case_events, lock_case
from icam_case.config import CaseSettings
from icam_case.domain import Case, Decider
from icam_contracts.base import Event
from icam_contracts.enums import ActorRole, EntryChannel, RecipientKind
from icam_contracts.events import (
    AppointmentRequested,
    InvitationNoShowRecorded,
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
from icam_contracts.events.case import CaseEvent, ReferralStatus
from icam_contracts.registry import UnknownEvent, parse
from icam_kernel.db import Connection
from icam_kernel.events import Actor, RecordedEvent
from icam_kernel.store import EventStore, ExpectedVersion

log = structlog.get_logger(__name__)

SYSTEM: Final = Actor(id="icam-case", role="system", organisation="immigration_office")
_CASE_IDS: Final = uuid.UUID("b3a0f3c4-2c55-4a8e-8f5e-0d7c1c9b6e21")

Reaction = Callable[[Connection, RecordedEvent, Event], Awaitable[None]]


class CaseReactions:
    """The handlers the service subscribes, one per consumed topic, dispatching on event type."""

    def __init__(self, store: EventStore, settings: CaseSettings) -> None:
        self.store, self.settings = store, settings
        self.system = Decider("icam-case", ActorRole.SYSTEM, settings.legal_basis, settings.policy_version)
        self._reactions: dict[str, Reaction] = {
            "InvitationSent": self.when_invitation_sent_open_or_attach_case,
            "WalkInRegistered": self.when_first_contact_open_case,
            "AppointmentRequested": self.when_first_contact_open_case,
            "InvitationNoShowRecorded": self.when_no_show_recorded_count_it,
            "ReferredToReturnPartner": self.when_referral_news_note_it,
            "ReferralAcknowledged": self.when_referral_news_note_it,
            "ReferralRejected": self.when_referral_news_note_it,
            "ReferralOverdue": self.when_referral_news_note_it,
            "ReferralNotMade": self.when_referral_news_note_it,
            "ReferralWithdrawn": self.when_referral_withdrawn_reopen_outcome,
            "VoluntaryReturnCompleted": self.when_return_completed_close_as_departed,
            "NotificationFailed": self.when_notification_failed_flag_contact_problem,
        }

    async def handle(self, conn: Connection, recorded: RecordedEvent) -> None:
        """Entry point for the inbox consumer of every topic the case reads."""
        try:
            event = parse(recorded.event_type, recorded.event_version, recorded.data)
        except UnknownEvent:
            log.info("event_ignored", event_type=recorded.event_type)
            return
        reaction = self._reactions.get(recorded.event_type)
        if reaction is not None:
            await reaction(conn, recorded, event)
        await self._keep_for_timeline(conn, recorded, event)

    # opening ---------------------------------------------------------------------------------------

    async def when_invitation_sent_open_or_attach_case(
        self, conn: Connection, rec: RecordedEvent, ev: Event
    ) -> None:
        assert isinstance(ev, InvitationSent)
        case_id, opened = await self._claim_household(conn, ev.household_id, rec.event_id)
        if opened:
            events = domain.open_case(
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
            await self._append_opening(conn, case_id, events, rec)
            return
        await self._decide_on(
            conn,
            case_id,
            rec,
            lambda case: domain.attach_invitation(case, ev.invitation_id, ev.appointment_at, ev.attempt),
        )

    async def when_first_contact_open_case(self, conn: Connection, rec: RecordedEvent, ev: Event) -> None:
        """A walk-in or a helpline request opens a case when the household has none; else it is noted."""
        assert isinstance(ev, WalkInRegistered | AppointmentRequested)
        case_id, opened = await self._claim_household(conn, ev.household_id, rec.event_id)
        if not opened:
            return
        if isinstance(ev, WalkInRegistered):
            desk = next((d for d in self.settings.reference.desks if d.code == ev.desk), None)
            region, office, coach, channel = (
                ev.region,
                self.settings.office_for(ev.region, desk.office if desk else None),
                ev.coach_id,
                EntryChannel.WALK_IN,
            )
            origin = ev.visit_id
        else:
            region = ev.region or self.settings.default_region
            office, coach, channel, origin = (
                self.settings.office_for(region),
                None,
                ev.entry_channel,
                ev.request_id,
            )
        events = domain.open_case(
            case_id=case_id,
            household_id=ev.household_id,
            region=region,
            office=office,
            coach_id=coach,
            entry_channel=channel,
            origin_id=origin,
            language=ev.language,
            members=ev.members,
        )
        await self._append_opening(conn, case_id, events, rec)

    async def _claim_household(
        self, conn: Connection, household_id: uuid.UUID, cause: uuid.UUID
    ) -> tuple[uuid.UUID, bool]:
        """The household's open case, or a new one claimed for it: exactly one open case per household.

        A racing opener blocks on the primary key until the winner commits, then finds its case.
        """
        existing = await conn.fetchval("select case_id from open_cases where household_id = $1", household_id)
        if existing is not None:
            return existing, False
        new_id = uuid.uuid5(_CASE_IDS, str(cause))
        won = await conn.fetchval(
            """insert into open_cases (household_id, case_id) values ($1, $2)
               on conflict (household_id) do nothing returning case_id""",
            household_id,
            new_id,
        )
        if won is not None:
            return new_id, True
        winner = await conn.fetchval("select case_id from open_cases where household_id = $1", household_id)
        log.info("case_open_race_lost", household_id=str(household_id), case_id=str(winner))
        return winner, False

    async def _append_opening(
        self, conn: Connection, case_id: uuid.UUID, events: list[CaseEvent], rec: RecordedEvent
    ) -> None:
        new = self._wrap(events, rec)
        await append_case_events(conn, self.store, case_id, new, ExpectedVersion.NO_STREAM)
        log.info("case_opened", case_id=str(case_id), household_id=str(events[0].household_id))

    # the trajectory ------------------------------------------------------------------------------

    async def when_no_show_recorded_count_it(self, conn: Connection, rec: RecordedEvent, ev: Event) -> None:
        assert isinstance(ev, InvitationNoShowRecorded)
        case_id = await self._open_case_of(conn, ev.household_id)
        threshold = self.settings.no_show_threshold
        await self._decide_on(
            conn,
            case_id,
            rec,
            lambda case: domain.count_no_show(case, ev.invitation_id, ev.appointment_at, threshold=threshold),
        )

    async def when_referral_news_note_it(self, conn: Connection, rec: RecordedEvent, ev: Event) -> None:
        status, reason = _REFERRAL_STATUS[type(ev)], None
        if isinstance(ev, ReferralRejected):
            reason = ev.reason
        if isinstance(ev, ReferralNotMade):
            reason = ev.reason.value
        referral_id = getattr(ev, "referral_id", None)
        await self._decide_on(
            conn,
            ev.case_id,  # type: ignore[attr-defined]
            rec,
            lambda case: domain.note_referral(
                case,
                status,
                referral_id=referral_id,
                decision_id=getattr(ev, "decision_id", None),
                partner=getattr(ev, "partner", None),
                reason=reason,
            ),
        )

    async def when_referral_withdrawn_reopen_outcome(
        self, conn: Connection, rec: RecordedEvent, ev: Event
    ) -> None:
        assert isinstance(ev, ReferralWithdrawn)
        reason = ev.reason.value if not ev.reason_text else f"{ev.reason.value}: {ev.reason_text}"
        await self._decide_on(
            conn,
            ev.case_id,
            rec,
            lambda case: domain.withdraw_referral(case, ev.referral_id, ev.partner, reason),
        )

    async def when_return_completed_close_as_departed(
        self, conn: Connection, rec: RecordedEvent, ev: Event
    ) -> None:
        assert isinstance(ev, VoluntaryReturnCompleted)
        await self._decide_on(
            conn,
            ev.case_id,
            rec,
            lambda case: domain.complete_return(case, ev.referral_id, ev.partner, decider=self.system),
        )

    async def when_notification_failed_flag_contact_problem(
        self, conn: Connection, rec: RecordedEvent, ev: Event
    ) -> None:
        assert isinstance(ev, NotificationFailed)
        if ev.will_retry or ev.recipient_kind is not RecipientKind.PERSON:
            return
        case_id = ev.case_id or await self._open_case_of(conn, ev.household_id)
        await self._decide_on(
            conn,
            case_id,
            rec,
            lambda case: domain.flag_contact_problem(case, ev.notification_id, ev.channel, ev.error),
        )

    # plumbing -------------------------------------------------------------------------------------

    async def _open_case_of(self, conn: Connection, household_id: uuid.UUID) -> uuid.UUID | None:
        value = await conn.fetchval("select case_id from open_cases where household_id = $1", household_id)
        return value if isinstance(value, uuid.UUID) else None

    async def _decide_on(
        self,
        conn: Connection,
        case_id: uuid.UUID | None,
        rec: RecordedEvent,
        decide: Callable[[Case], list[CaseEvent]],
    ) -> None:
        """Load the case, decide, append at the loaded version (a concurrent write retries the delivery)."""
        if case_id is None:
            log.info("no_case_for_event", event_type=rec.event_type)
            return
        await lock_case(conn, case_id)
        case = fold_recorded(await self.store.read_stream(conn, str(case_id)))
        if not case.exists:
            log.warning("event_for_unknown_case", case_id=str(case_id), event_type=rec.event_type)
            return
        events = decide(case)
        if events:
            await append_case_events(conn, self.store, case_id, self._wrap(events, rec), case.version)

    def _wrap(self, events: list[CaseEvent], rec: RecordedEvent) -> list:  # type: ignore[type-arg]
        return to_new_events(
            events,
            actor=SYSTEM,
            correlation_id=rec.correlation_id,
            causation_id=str(rec.event_id),
            occurred_at=rec.occurred_at,
            caused_by_event=rec.event_id,
        )

    async def _keep_for_timeline(self, conn: Connection, rec: RecordedEvent, ev: Event) -> None:
        case_id = getattr(ev, "case_id", None) or await self._open_case_of(conn, ev.household_id)
        await conn.execute(
            """insert into received_events (event_id, case_id, household_id, topic, event_type, event_version,
                   data, actor, occurred_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
               on conflict (event_id) do nothing""",
            rec.event_id,
            case_id,
            ev.household_id,
            type(ev).topic,
            rec.event_type,
            type(ev).event_version,
            json.dumps(ev.model_dump(mode="json")),
            json.dumps(rec.actor.to_dict()),
            rec.occurred_at,
        )


_REFERRAL_STATUS: Final[dict[type[Event], ReferralStatus]] = {
    ReferredToReturnPartner: ReferralStatus.REFERRED,
    ReferralAcknowledged: ReferralStatus.ACKNOWLEDGED,
    ReferralRejected: ReferralStatus.REJECTED,
    ReferralOverdue: ReferralStatus.OVERDUE,
    ReferralNotMade: ReferralStatus.NOT_MADE,
}
