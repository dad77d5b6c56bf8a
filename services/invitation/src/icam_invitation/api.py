"""HTTP commands: parse, build the domain command, call the handler. Errors are problem+json."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request

from icam_auth import Principal, Role
from icam_auth.fastapi import roles
from icam_invitation.commands import Caller, Commands, Done
from icam_invitation.domain import RegisterWalkIn, SendInvitation
from icam_invitation.domain import requests as req
from icam_invitation.domain.errors import DomainError
from icam_invitation.schemas import (
    Accepted,
    AppointmentRequestIn,
    CancelIn,
    CloseRequestIn,
    InviteIn,
    RescheduleIn,
    ResponseIn,
    SendInvitationIn,
    SlotIn,
    WalkInIn,
    personal_data,
)

Staff = Annotated[Principal, Depends(roles(Role.COACH, Role.TEAM_LEAD))]
CorrelationHeader = Annotated[
    str | None,
    Header(alias="X-Correlation-Id", description="Journey id to use at a household's first contact."),
]
ERRORS = {
    401: {"description": "No valid bearer token"},
    403: {"description": "Role or region does not allow this"},
    404: {"description": "Unknown invitation, request or desk"},
    409: {"description": "Conflict: settled, limit reached, coach double-booked, concurrent change"},
    422: {"description": "Invalid field (named in the problem's `field`)"},
}

router = APIRouter(tags=["commands"], responses=ERRORS)  # type: ignore[arg-type]


def _commands(request: Request) -> Commands:
    commands: Commands = request.app.state.commands
    return commands


def _caller(principal: Principal, correlation: str | None) -> Caller:
    return Caller(principal, command_id=str(uuid.uuid4()), correlation_hint=correlation)


def _accepted(done: Done) -> Accepted:
    return Accepted(**done.__dict__)


def _send_command(
    slot: SlotIn, invitation_id: uuid.UUID | None, household_id: uuid.UUID | None, members: tuple
) -> SendInvitation:  # type: ignore[type-arg]
    return SendInvitation(
        invitation_id=invitation_id or uuid.uuid4(),
        household_id=household_id or uuid.uuid4(),
        members=members,
        channels=tuple(slot.channels),
        appointment_at=slot.appointment_at,
        coach_id=slot.coach_id,
        office=slot.office,
        language=slot.language,
    )


@router.post("/invitations", status_code=201, summary="Send an invitation to an interview")
async def send_invitation(
    body: SendInvitationIn, principal: Staff, request: Request, correlation: CorrelationHeader = None
) -> Accepted:
    """Office from the postal code, notice period, working hours, coach agenda; 201 with the stream."""
    command = _send_command(body, body.invitation_id, body.household_id, personal_data(body.members))
    command = SendInvitation(
        **{
            **command.__dict__,
            "entry_channel": body.entry_channel,
            "attempt": body.attempt,
            "previous_invitation_id": body.previous_invitation_id,
        }
    )
    return _accepted(await _commands(request).send_invitation(command, _caller(principal, correlation)))


@router.post("/invitations/{invitation_id}/reschedule", status_code=201, summary="Move the interview")
async def reschedule(
    invitation_id: uuid.UUID, body: RescheduleIn, principal: Staff, request: Request
) -> Accepted:
    """A new slot (same rules as sending); at most the configured number of times."""
    done = await _commands(request).reschedule(
        invitation_id,
        _caller(principal, None),
        appointment_at=body.appointment_at,
        requested_by_person=body.requested_by_person,
        reason=body.reason,
    )
    return _accepted(done)


@router.post("/invitations/{invitation_id}/cancel", status_code=201, summary="Cancel an invitation")
async def cancel(invitation_id: uuid.UUID, body: CancelIn, principal: Staff, request: Request) -> Accepted:
    """Withdraw an open invitation, with a reason; frees the coach's slot."""
    return _accepted(
        await _commands(request).cancel(invitation_id, _caller(principal, None), reason=body.reason)
    )


@router.post("/invitations/{invitation_id}/response", status_code=201, summary="Record the person's response")
async def respond(invitation_id: uuid.UUID, body: ResponseIn, principal: Staff, request: Request) -> Accepted:
    """Confirmed or declined, before the appointment (a decline frees the coach's slot)."""
    done = await _commands(request).respond(
        invitation_id, _caller(principal, None), response=body.response, via=body.via
    )
    return _accepted(done)


@router.post("/appointment-requests", status_code=201, summary="Record a helpline request for an appointment")
async def request_appointment(
    body: AppointmentRequestIn, principal: Staff, request: Request, correlation: CorrelationHeader = None
) -> Accepted:
    """E-mail or phone request; the region defaults to the postal code's."""
    commands = _commands(request)
    members = personal_data(body.members)
    event = req.request_appointment(
        request_id=body.request_id or uuid.uuid4(),
        household_id=body.household_id or uuid.uuid4(),
        entry_channel=body.entry_channel,
        language=body.language,
        region=body.region or _region_of_address(commands, members),
        members=members,
        subject=body.subject,
    )
    return _accepted(await commands.request_appointment(event, _caller(principal, correlation)))


def _region_of_address(commands: Commands, members: tuple) -> str | None:  # type: ignore[type-arg]
    for member in members:
        address = member.contact.postal_address if member.contact else None
        if address is not None:
            try:
                return commands.offices.office_for(address.postal_code, address.country, "address")[1]
            except DomainError:
                return None
    return None


@router.post(
    "/appointment-requests/{request_id}/invite",
    status_code=201,
    summary="Answer a request with an invitation",
)
async def invite(request_id: uuid.UUID, body: InviteIn, principal: Staff, request: Request) -> Accepted:
    """Sends an invitation to the requesting household and closes the request; returns the invitation."""
    members = personal_data(body.members) if body.members else ()
    command = _send_command(body, body.invitation_id, None, members)
    return _accepted(
        await _commands(request).invite_from_request(request_id, command, _caller(principal, None))
    )


@router.post("/appointment-requests/{request_id}/close", status_code=201, summary="Close a request")
async def close_request(
    request_id: uuid.UUID, body: CloseRequestIn, principal: Staff, request: Request
) -> Accepted:
    """Closed without an invitation (answered, withdrawn, unreachable), with a reason."""
    done = await _commands(request).close_request(
        request_id, _caller(principal, None), resolution=body.resolution, reason=body.reason
    )
    return _accepted(done)


@router.post("/desks/{desk}/visits", status_code=201, summary="Register a walk-in visit")
async def register_visit(
    desk: str, body: WalkInIn, principal: Staff, request: Request, correlation: CorrelationHeader = None
) -> Accepted:
    """Only during opening hours (the refusal says when the desk next opens); an interview on the
    spot books the coach now, an invitation is sent at the desk's office."""
    members = personal_data(body.members)
    invitation = _send_command(body.invitation, None, None, ()) if body.invitation else None
    command = RegisterWalkIn(
        visit_id=body.visit_id or uuid.uuid4(),
        household_id=body.household_id or uuid.uuid4(),
        members=members,
        outcome=body.outcome,
        coach_id=body.coach_id,
        language=body.language,
        invitation=invitation,
    )
    return _accepted(
        await _commands(request).register_walk_in(desk, command, _caller(principal, correlation))
    )
