"""The Invitation aggregate: sent, rescheduled, answered, cancelled, reminded, honoured or missed.

Decisions are pure functions of the current state (a fold of the stream's events), the command,
the policy and ``now``; they return contract events or raise a domain error.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import singledispatch
from typing import Any, Final
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.enums import Channel, EntryChannel, InvitationResponse, Language
from icam_contracts.events.invitation import (
    InvitationCancelled,
    InvitationHonoured,
    InvitationNoShowRecorded,
    InvitationReminderDue,
    InvitationRescheduled,
    InvitationResponseRecorded,
    InvitationSent,
)
from icam_contracts.personal_data import PersonalData, PostalAddress
from icam_invitation.domain.calendar import NoticePeriod, WorkingHours, earliest_valid_slot
from icam_invitation.domain.errors import (
    AddressNotServed,
    InvalidCommand,
    NotOpen,
    RescheduleLimitReached,
    SlotOutsideWorkingHours,
    SlotTooEarly,
    SlotTooLate,
)
from icam_invitation.domain.offices import OfficeFinder
from icam_kernel.decider import Aggregate


class Status(StrEnum):
    """Where an invitation stands. ``sent``, ``confirmed`` and ``declined`` are still open."""

    NONE = "none"
    SENT = "sent"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    HONOURED = "honoured"
    NO_SHOW = "no_show"


OPEN = frozenset({Status.SENT, Status.CONFIRMED, Status.DECLINED})


@dataclass(frozen=True)
class SchedulingPolicy:
    """The configurable rules of scheduling an interview."""

    hours: WorkingHours = field(default_factory=WorkingHours)
    notice: NoticePeriod = field(default_factory=NoticePeriod)
    slot_duration: timedelta = timedelta(minutes=60)
    max_reschedules: int = 2
    horizon: timedelta = timedelta(days=365)


@dataclass(frozen=True)
class Invitation:
    """The state of one invitation, folded from its events."""

    invitation_id: UUID | None = None
    household_id: UUID | None = None
    status: Status = Status.NONE
    region: str = ""
    office: str = ""
    coach_id: str | None = None
    entry_channel: EntryChannel = EntryChannel.INVITATION_LETTER
    language: Language = Language.EN
    channels: tuple[Channel, ...] = ()
    appointment_at: datetime | None = None
    attempt: int = 1
    reschedules: int = 0
    reminders: int = 0
    response: InvitationResponse | None = None
    sent: InvitationSent | None = None

    @property
    def is_open(self) -> bool:
        """Whether the interview may still take place on this invitation."""
        return self.status in OPEN

    def summary(self) -> dict[str, Any]:
        """The state as JSON-ready values (no personal data: counts only)."""
        return {
            "invitation_id": str(self.invitation_id),
            "household_id": str(self.household_id),
            "status": self.status.value,
            "region": self.region,
            "office": self.office,
            "coach_id": self.coach_id,
            "entry_channel": self.entry_channel.value,
            "language": self.language.value,
            "channels": [c.value for c in self.channels],
            "appointment_at": self.appointment_at.isoformat() if self.appointment_at else None,
            "attempt": self.attempt,
            "reschedules": self.reschedules,
            "reminders": self.reminders,
            "response": self.response.value if self.response else None,
        }


def check_slot(
    start: datetime, channels: tuple[Channel, ...], policy: SchedulingPolicy, now: datetime
) -> None:
    """Refuse a slot outside working hours, in the past or inside the notice period."""
    postal = Channel.POSTAL_LETTER in channels
    earliest = earliest_valid_slot(now, policy.hours, policy.notice.working_days(postal))
    if start < earliest:
        kind = "postal" if postal else "e-mail/SMS"
        raise SlotTooEarly(
            f"the interview must be at least {policy.notice.working_days(postal)} working days after a "
            f"{kind} invitation; the earliest valid date is {earliest.date().isoformat()}",
            "appointment_at",
            earliest_valid_date=earliest.date().isoformat(),
            earliest_valid_at=earliest.isoformat(),
        )
    if start > now + policy.horizon:
        raise SlotTooLate(
            f"an interview is booked at most {policy.horizon.days} days ahead",
            "appointment_at",
            latest_valid_date=(now + policy.horizon).date().isoformat(),
        )
    if not policy.hours.slot_fits(start, policy.slot_duration):
        raise SlotOutsideWorkingHours(
            f"a {int(policy.slot_duration.total_seconds() // 60)}-minute interview must fit within working "
            f"hours ({policy.hours.opens:%H:%M}-{policy.hours.closes:%H:%M}) on a working day",
            "appointment_at",
        )


@dataclass(frozen=True)
class SendInvitation:
    """What a coach asks for: who, when, on which channels; the office may be derived."""

    invitation_id: UUID
    household_id: UUID
    members: tuple[PersonalData, ...]
    channels: tuple[Channel, ...]
    appointment_at: datetime
    coach_id: str | None = None
    office: str | None = None
    language: Language | None = None
    entry_channel: EntryChannel = EntryChannel.INVITATION_LETTER
    attempt: int = 1
    previous_invitation_id: UUID | None = None
    request_id: UUID | None = None


def send(
    command: SendInvitation, policy: SchedulingPolicy, offices: OfficeFinder, now: datetime
) -> InvitationSent:
    """Send an invitation. The office comes from the first adult's Belgian postal code unless given;
    the slot must respect working hours and the notice period."""
    adults = sum(1 for m in command.members if not m.is_minor)
    if adults < 1:
        raise InvalidCommand("a household has at least one adult member", "members")
    if Channel.POSTAL_LETTER in command.channels and _postal_address(command.members) is None:
        raise InvalidCommand("a postal invitation needs a postal address", "channels")
    if command.office is not None:
        office, region = command.office, offices.region_of(command.office, "office")
    else:
        office, region = _office_from_address(command.members, offices)
    check_slot(command.appointment_at, command.channels, policy, now)
    first_adult = next(m for m in command.members if not m.is_minor)
    return InvitationSent(
        household_id=command.household_id,
        invitation_id=command.invitation_id,
        region=region,
        office=office,
        coach_id=command.coach_id,
        entry_channel=command.entry_channel,
        language=command.language or offices.language_for(region, first_adult.preferred_language),
        appointment_at=command.appointment_at,
        channels=command.channels,
        members=command.members,
        adults=adults,
        minors=len(command.members) - adults,
        attempt=command.attempt,
        previous_invitation_id=command.previous_invitation_id,
        request_id=command.request_id,
    )


def _office_from_address(members: tuple[PersonalData, ...], offices: OfficeFinder) -> tuple[str, str]:
    found = _postal_address(members)
    if found is None:
        raise AddressNotServed(
            "a Belgian postal address is needed to choose the office (or give the office)",
            "members[0].contact.postal_address.postal_code",
        )
    index, address = found
    field = f"members[{index}].contact.postal_address"
    return offices.office_for(address.postal_code, address.country, field)


def _postal_address(members: tuple[PersonalData, ...]) -> tuple[int, PostalAddress] | None:
    """The first member's postal address (adults first), with the member's index."""
    ordered = sorted(enumerate(members), key=lambda pair: bool(pair[1].is_minor))
    for index, member in ordered:
        if member.contact is not None and member.contact.postal_address is not None:
            return index, member.contact.postal_address
    return None


def _require_open(state: Invitation) -> UUID:
    if state.invitation_id is None or state.household_id is None:
        raise LookupError("no such invitation")
    if not state.is_open:
        raise NotOpen(f"the invitation is {state.status.value}", current_status=state.status.value)
    return state.invitation_id


def reschedule(
    state: Invitation,
    *,
    appointment_at: datetime,
    requested_by_person: bool,
    reason: str | None,
    policy: SchedulingPolicy,
    now: datetime,
) -> InvitationRescheduled:
    """Move the interview; refused when settled, over the limit, or for an invalid slot."""
    invitation_id = _require_open(state)
    assert state.household_id is not None and state.appointment_at is not None
    if state.reschedules >= policy.max_reschedules:
        raise RescheduleLimitReached(
            f"the invitation was already rescheduled {state.reschedules} times "
            f"(maximum {policy.max_reschedules})",
            reschedules=state.reschedules,
            max_reschedules=policy.max_reschedules,
        )
    check_slot(appointment_at, state.channels, policy, now)
    return InvitationRescheduled(
        household_id=state.household_id,
        invitation_id=invitation_id,
        previous_appointment_at=state.appointment_at,
        appointment_at=appointment_at,
        office=state.office,
        requested_by_person=requested_by_person,
        reason=reason,
    )


def cancel(state: Invitation, *, reason: str) -> InvitationCancelled:
    """Withdraw an open invitation, saying why."""
    invitation_id = _require_open(state)
    assert state.household_id is not None
    if not reason.strip():
        raise InvalidCommand("a cancellation needs a reason", "reason")
    return InvitationCancelled(household_id=state.household_id, invitation_id=invitation_id, reason=reason)


def record_response(
    state: Invitation, *, response: InvitationResponse, via: Channel | None, now: datetime
) -> InvitationResponseRecorded:
    """The person confirms or declines, before the appointment."""
    invitation_id = _require_open(state)
    assert state.household_id is not None and state.appointment_at is not None
    if now >= state.appointment_at:
        raise InvalidCommand("a response can only be recorded before the appointment", "response")
    return InvitationResponseRecorded(
        household_id=state.household_id, invitation_id=invitation_id, response=response, via=via
    )


def remind(state: Invitation, *, for_appointment_at: datetime) -> InvitationReminderDue | None:
    """A reminder timer fired: remind only if the interview is still open and at that time."""
    if not state.is_open or state.status is Status.DECLINED or state.appointment_at != for_appointment_at:
        return None
    assert state.invitation_id is not None and state.household_id is not None
    return InvitationReminderDue(
        household_id=state.household_id,
        invitation_id=state.invitation_id,
        appointment_at=for_appointment_at,
        office=state.office,
        language=state.language,
        channels=state.channels,
        reminder_number=state.reminders + 1,
    )


def record_no_show(state: Invitation, *, for_appointment_at: datetime) -> InvitationNoShowRecorded | None:
    """The grace period after the slot passed: a no-show unless honoured, moved or cancelled."""
    if not state.is_open or state.appointment_at != for_appointment_at:
        return None
    assert state.invitation_id is not None and state.household_id is not None
    return InvitationNoShowRecorded(
        household_id=state.household_id,
        invitation_id=state.invitation_id,
        appointment_at=for_appointment_at,
        region=state.region,
        attempt=state.attempt,
    )


def honour(state: Invitation, *, case_id: UUID, interview_id: UUID) -> InvitationHonoured | None:
    """An interview was held on this invitation. A late record after a no-show still counts (the
    fact wins); a cancelled or already honoured invitation is left alone."""
    if state.status not in OPEN | {Status.NO_SHOW}:
        return None
    assert state.invitation_id is not None and state.household_id is not None
    return InvitationHonoured(
        household_id=state.household_id,
        invitation_id=state.invitation_id,
        case_id=case_id,
        interview_id=interview_id,
    )


@singledispatch
def evolve(event: Event, state: Invitation) -> Invitation:
    """The state after ``event``; events of other aggregates leave it unchanged."""
    return state


@evolve.register
def _(event: InvitationSent, state: Invitation) -> Invitation:
    return replace(
        state,
        invitation_id=event.invitation_id,
        household_id=event.household_id,
        status=Status.SENT,
        region=event.region,
        office=event.office,
        coach_id=event.coach_id,
        entry_channel=event.entry_channel,
        language=event.language,
        channels=event.channels,
        appointment_at=event.appointment_at,
        attempt=event.attempt,
        sent=event,
    )


@evolve.register
def _(event: InvitationRescheduled, state: Invitation) -> Invitation:
    return replace(
        state,
        appointment_at=event.appointment_at,
        office=event.office,
        reschedules=state.reschedules + 1,
        status=Status.SENT,
        response=None,
    )


@evolve.register
def _(event: InvitationResponseRecorded, state: Invitation) -> Invitation:
    status = Status.CONFIRMED if event.response is InvitationResponse.CONFIRMED else Status.DECLINED
    return replace(state, status=status, response=event.response)


@evolve.register
def _(event: InvitationCancelled, state: Invitation) -> Invitation:
    return replace(state, status=Status.CANCELLED)


@evolve.register
def _(event: InvitationReminderDue, state: Invitation) -> Invitation:
    return replace(state, reminders=state.reminders + 1)


@evolve.register
def _(event: InvitationNoShowRecorded, state: Invitation) -> Invitation:
    return replace(state, status=Status.NO_SHOW)


@evolve.register
def _(event: InvitationHonoured, state: Invitation) -> Invitation:
    return replace(state, status=Status.HONOURED)


def fold(events: list[Event]) -> Invitation:
    """The state after all ``events`` of one invitation stream."""
    state = Invitation()
    for event in events:
        state = evolve(event, state)
    return state


INVITATION: Final = Aggregate(
    "invitation",
    Invitation(),
    lambda state, event, at: evolve(event, state),
    lambda s: s.invitation_id is not None,
)
"""The invitation stream's decider (`icam_kernel.decider`)."""
