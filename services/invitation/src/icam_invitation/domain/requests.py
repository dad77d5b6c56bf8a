"""The AppointmentRequest aggregate: a helpline request, answered by an invitation or closed."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import singledispatch
from typing import Final
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.enums import AppointmentRequestResolution, EntryChannel, Language
from icam_contracts.events.invitation import AppointmentRequestClosed, AppointmentRequested, InvitationSent
from icam_contracts.personal_data import PersonalData
from icam_invitation.domain.errors import InvalidCommand, NotOpen
from icam_invitation.domain.invitation import SchedulingPolicy, SendInvitation, send
from icam_invitation.domain.offices import OfficeFinder
from icam_kernel.decider import Aggregate

HELPLINE = frozenset({EntryChannel.HELPLINE_EMAIL, EntryChannel.HELPLINE_PHONE})


@dataclass(frozen=True)
class AppointmentRequest:
    """The state of one request for an appointment."""

    request_id: UUID | None = None
    household_id: UUID | None = None
    entry_channel: EntryChannel = EntryChannel.HELPLINE_PHONE
    language: Language = Language.EN
    region: str | None = None
    members: tuple[PersonalData, ...] = ()
    closed: AppointmentRequestResolution | None = None
    invitation_id: UUID | None = None


def request_appointment(
    *,
    request_id: UUID,
    household_id: UUID,
    entry_channel: EntryChannel,
    language: Language,
    region: str | None,
    members: tuple[PersonalData, ...],
    subject: str | None,
) -> AppointmentRequested:
    """Record a request that came in by helpline e-mail or phone."""
    if entry_channel not in HELPLINE:
        raise InvalidCommand("an appointment request comes by helpline e-mail or phone", "entry_channel")
    return AppointmentRequested(
        household_id=household_id,
        request_id=request_id,
        entry_channel=entry_channel,
        language=language,
        region=region,
        members=members,
        subject=subject,
    )


def _require_open(state: AppointmentRequest) -> tuple[UUID, UUID]:
    if state.request_id is None or state.household_id is None:
        raise LookupError("no such request")
    if state.closed is not None:
        raise NotOpen(
            f"the request was already closed ({state.closed.value})", current_status=state.closed.value
        )
    return state.request_id, state.household_id


def close(
    state: AppointmentRequest, *, resolution: AppointmentRequestResolution, reason: str
) -> AppointmentRequestClosed:
    """Close a request without an invitation, with a reason."""
    request_id, household_id = _require_open(state)
    if resolution is AppointmentRequestResolution.INVITATION_SENT:
        raise InvalidCommand("to answer with an invitation, invite instead of closing", "resolution")
    if not reason.strip():
        raise InvalidCommand("closing a request needs a reason", "reason")
    return AppointmentRequestClosed(
        household_id=household_id, request_id=request_id, resolution=resolution, reason=reason
    )


def invite(
    state: AppointmentRequest,
    command: SendInvitation,
    policy: SchedulingPolicy,
    offices: OfficeFinder,
    now: datetime,
) -> tuple[InvitationSent, AppointmentRequestClosed]:
    """Answer a request with an invitation for the same household; the request closes with it."""
    request_id, household_id = _require_open(state)
    members = command.members or state.members
    sent = send(
        replace(
            command,
            household_id=household_id,
            members=members,
            request_id=request_id,
            entry_channel=state.entry_channel,
            language=command.language or state.language,
        ),
        policy,
        offices,
        now,
    )
    closed = AppointmentRequestClosed(
        household_id=household_id,
        request_id=request_id,
        resolution=AppointmentRequestResolution.INVITATION_SENT,
        invitation_id=sent.invitation_id,
    )
    return sent, closed


@singledispatch
def evolve(event: Event, state: AppointmentRequest) -> AppointmentRequest:
    """The state after ``event``."""
    return state


@evolve.register
def _(event: AppointmentRequested, state: AppointmentRequest) -> AppointmentRequest:
    return replace(
        state,
        request_id=event.request_id,
        household_id=event.household_id,
        entry_channel=event.entry_channel,
        language=event.language,
        region=event.region,
        members=event.members,
    )


@evolve.register
def _(event: AppointmentRequestClosed, state: AppointmentRequest) -> AppointmentRequest:
    return replace(state, closed=event.resolution, invitation_id=event.invitation_id)


def fold(events: list[Event]) -> AppointmentRequest:
    """The state after all ``events`` of one request stream."""
    state = AppointmentRequest()
    for event in events:
        state = evolve(event, state)
    return state


REQUEST: Final = Aggregate(
    "appointment request",
    AppointmentRequest(),
    lambda state, event, at: evolve(event, state),
    lambda s: s.request_id is not None,
)
"""The appointment request stream's decider (`icam_kernel.decider`)."""
