"""HTTP commands: parse, build the domain command, run it on the kernel's one path.

A client-chosen id (``invitation_id``, ``request_id``, ``visit_id``) and ``Idempotency-Key`` make
a retry safe: the same request answers its first result again, a different one under the same id
is refused (422). Who may call each route comes from the route table; regions and a coach's own
bookings are checked here (``access``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from typing import Annotated

from fastapi import Depends

from icam_auth import Principal
from icam_contracts.base import Event
from icam_contracts.events.invitation import HouseholdMatchDecided, MatchDecision
from icam_contracts.personal_data import PersonalData
from icam_invitation import access, duplicates
from icam_invitation.config import Settings
from icam_invitation.domain import DESK_VISIT, INVITATION, REQUEST, RegisterWalkIn, SendInvitation, matching
from icam_invitation.domain import invitation as inv
from icam_invitation.domain import requests as req
from icam_invitation.domain.desk import register_walk_in
from icam_invitation.domain.errors import DomainRuleViolation, InvalidCommand
from icam_invitation.schemas import (
    AppointmentRequestIn,
    CancelIn,
    CloseRequestIn,
    DuplicateCheckIn,
    DuplicateCheckOut,
    InviteIn,
    MatchDecisionIn,
    PossibleHousehold,
    RescheduleIn,
    ResponseIn,
    SendInvitationIn,
    SlotIn,
    WalkInIn,
    personal_data,
)
from icam_kernel.errors import NotFound
from icam_kernel.http_commands import Command, CommandAccepted, CommandContext
from icam_kernel.http_queries import settings_of
from icam_kernel.routing import PolicyRouter

router = PolicyRouter("invitation")
MATCHES = frozenset({HouseholdMatchDecided.event_type})  # kept on the household's stream, whatever it holds


Config = Annotated[Settings, Depends(settings_of)]


def _send_command(
    slot: SlotIn,
    invitation_id: uuid.UUID | None,
    household_id: uuid.UUID | None,
    members: tuple[PersonalData, ...],
) -> SendInvitation:
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


def _in_region(principal: Principal, events: Sequence[Event]) -> list[Event]:
    """The decided events, once the caller is known to act in their region."""
    for event in events:
        access.authorise_region(principal, getattr(event, "region", None))
    return list(events)


@router.post("/invitations", status_code=201, summary="Send an invitation to an interview")
async def send_invitation(body: SendInvitationIn, command: Command, settings: Config) -> CommandAccepted:
    """Office from the postal code, notice period, working hours, coach agenda; 201 with the stream."""
    principal = command.principal
    household = await _household(command, body.household_id, body.match)
    cmd = replace(
        _send_command(body, body.invitation_id, household, personal_data(body.members)),
        coach_id=access.coach_to_book(principal, body.coach_id),
        entry_channel=body.entry_channel,
        attempt=body.attempt,
        previous_invitation_id=body.previous_invitation_id,
    )
    now = settings.clock()
    result = await command.execute(
        INVITATION,
        str(cmd.invitation_id),
        lambda _: _in_region(
            principal,
            [
                inv.send(cmd, settings.policy, settings.offices, now),
                *_decided(body.match, household, cmd.invitation_id),
            ],
        ),
        creates=True,
        body=body,
        client_id=("invitation_id", body.invitation_id),
        created_id=str(cmd.invitation_id),
        extends=MATCHES,
    )
    return CommandAccepted.of(result)


@router.post("/invitations/{invitation_id}/reschedule", status_code=201, summary="Move the interview")
async def reschedule(
    invitation_id: uuid.UUID, body: RescheduleIn, command: Command, settings: Config
) -> CommandAccepted:
    """A new slot (same rules as sending); at most the configured number of times."""
    now = settings.clock()
    result = await command.execute(
        INVITATION,
        str(invitation_id),
        lambda state: [
            inv.reschedule(
                state,
                appointment_at=body.appointment_at,
                requested_by_person=body.requested_by_person,
                reason=body.reason,
                policy=settings.policy,
                now=now,
            )
        ],
        authorize=access.may_change,
        body=body,
    )
    return CommandAccepted.of(result)


@router.post("/invitations/{invitation_id}/cancel", status_code=201, summary="Cancel an invitation")
async def cancel(invitation_id: uuid.UUID, body: CancelIn, command: Command) -> CommandAccepted:
    """Withdraw an open invitation, with a reason; frees the coach's slot."""
    result = await command.execute(
        INVITATION,
        str(invitation_id),
        lambda state: [inv.cancel(state, reason=body.reason)],
        authorize=access.may_change,
        body=body,
    )
    return CommandAccepted.of(result)


@router.post("/invitations/{invitation_id}/response", status_code=201, summary="Record the person's response")
async def respond(
    invitation_id: uuid.UUID, body: ResponseIn, command: Command, settings: Config
) -> CommandAccepted:
    """Confirmed or declined, before the appointment (a decline frees the coach's slot)."""
    now = settings.clock()
    result = await command.execute(
        INVITATION,
        str(invitation_id),
        lambda state: [inv.record_response(state, response=body.response, via=body.via, now=now)],
        authorize=access.may_change,
        body=body,
    )
    return CommandAccepted.of(result)


@router.post("/appointment-requests", status_code=201, summary="Record a helpline request for an appointment")
async def request_appointment(
    body: AppointmentRequestIn, command: Command, settings: Config
) -> CommandAccepted:
    """E-mail or phone request; the region defaults to the postal code's."""
    members = personal_data(body.members)
    region = body.region or _region_of_address(settings, members)
    request_id = body.request_id or uuid.uuid4()
    access.authorise_region(command.principal, region)
    household = await _household(command, body.household_id, body.match)
    event = req.request_appointment(
        request_id=request_id,
        household_id=household,
        entry_channel=body.entry_channel,
        language=body.language,
        region=region,
        members=members,
        subject=body.subject,
    )
    result = await command.execute(
        REQUEST,
        str(request_id),
        lambda _: [event, *_decided(body.match, household, request_id)],
        creates=True,
        body=body,
        client_id=("request_id", body.request_id),
        created_id=str(request_id),
        extends=MATCHES,
    )
    return CommandAccepted.of(result)


def _region_of_address(settings: Settings, members: tuple[PersonalData, ...]) -> str | None:
    for member in members:
        address = member.contact.postal_address if member.contact else None
        if address is not None:
            try:
                return settings.offices.office_for(address.postal_code, address.country, "address")[1]
            except DomainRuleViolation:
                return None
    return None


@router.post(
    "/appointment-requests/{request_id}/invite",
    status_code=201,
    summary="Answer a request with an invitation",
)
async def invite(
    request_id: uuid.UUID, body: InviteIn, command: Command, settings: Config
) -> CommandAccepted:
    """Sends an invitation to the requesting household and closes the request; returns the invitation."""
    principal = command.principal
    members = personal_data(body.members) if body.members else ()
    cmd = replace(
        _send_command(body, body.invitation_id, None, members),
        coach_id=access.coach_to_book(principal, body.coach_id),
    )
    now = settings.clock()

    def answer(state: req.AppointmentRequest) -> list[Event]:
        sent, closed = req.invite(state, cmd, settings.policy, settings.offices, now)
        return _in_region(principal, [closed, sent])

    result = await command.execute(
        REQUEST,
        str(request_id),
        answer,
        authorize=access.may_handle,
        body=body,
        created_id=str(cmd.invitation_id),
    )
    return CommandAccepted.of(result)


@router.post("/appointment-requests/{request_id}/close", status_code=201, summary="Close a request")
async def close_request(request_id: uuid.UUID, body: CloseRequestIn, command: Command) -> CommandAccepted:
    """Closed without an invitation (answered, withdrawn, unreachable), with a reason."""
    result = await command.execute(
        REQUEST,
        str(request_id),
        lambda state: [req.close(state, resolution=body.resolution, reason=body.reason)],
        authorize=access.may_handle,
        body=body,
    )
    return CommandAccepted.of(result)


@router.post("/desks/{desk}/visits", status_code=201, summary="Register a walk-in visit")
async def register_visit(desk: str, body: WalkInIn, command: Command, settings: Config) -> CommandAccepted:
    """Only during opening hours (the refusal says when the desk next opens); an interview on the
    spot books the coach now, an invitation is sent at the desk's office."""
    found = settings.desks().get(desk)
    if found is None:
        raise NotFound("walk-in desk", desk)
    principal = command.principal
    access.authorise_region(principal, settings.offices.region_of(found.office, "desk"))
    invitation = _send_command(body.invitation, None, None, ()) if body.invitation else None
    cmd = RegisterWalkIn(
        visit_id=body.visit_id or uuid.uuid4(),
        household_id=await _household(command, body.household_id, body.match),
        members=personal_data(body.members),
        outcome=body.outcome,
        coach_id=access.coach_to_book(principal, body.coach_id),
        language=body.language,
        invitation=invitation,
    )
    now = settings.clock()

    def visit(_: object) -> list[Event]:
        registered, sent = register_walk_in(found, cmd, settings.policy, settings.offices, now)
        return [registered, *([sent] if sent else []), *_decided(body.match, cmd.household_id, cmd.visit_id)]

    result = await command.execute(
        DESK_VISIT,
        str(cmd.visit_id),
        visit,
        creates=True,
        body=body,
        client_id=("visit_id", body.visit_id),
        created_id=str(cmd.visit_id),
        extends=MATCHES,
    )
    return CommandAccepted.of(result)


@router.post("/duplicates/check", summary="Possible existing households for the people of a first contact")
async def check_duplicates(body: DuplicateCheckIn, command: Command) -> DuplicateCheckOut:
    """Before an invitation, a helpline request or a walk-in is recorded: who may be known already,
    the surest first, with the reasons (same dossier reference, similar name, same birth date)."""
    people = [
        matching.Person(m.person_id, m.given_name, m.family_name, m.birth_date, m.nationality)
        for m in body.members
    ]
    async with command.application.pool.acquire() as conn:
        found = await duplicates.possible_households(conn, people)
    principal = command.principal
    return DuplicateCheckOut(
        candidates=[
            PossibleHousehold(
                household_id=match.household_id,
                person_id=match.person_id if principal.works_in(region or "") else None,
                score=match.score,
                likely=match.likely,
                reasons=list(match.reasons),
                region=region,
                yours=principal.works_in(region or ""),
            )
            for match, region in found
        ]
    )


async def _household(
    command: CommandContext, given: uuid.UUID | None, match: MatchDecisionIn | None
) -> uuid.UUID:
    """The household of a first contact: the one the coach linked it to (theirs to see), the one
    given, or a new one."""
    if match is None or match.linked_to is None:
        return given or uuid.uuid4()
    if match.linked_to not in match.candidates:
        raise InvalidCommand("link to one of the households you were shown", "match.linked_to")
    if given is not None and given != match.linked_to:
        raise InvalidCommand("household_id and match.linked_to name different households", "household_id")
    async with command.application.pool.acquire() as conn:
        region = await conn.fetchval(
            "select region from people where household_id = $1 limit 1", match.linked_to
        )
    access.authorise_region(command.principal, region)
    return match.linked_to


def _decided(match: MatchDecisionIn | None, household_id: uuid.UUID, first_contact: uuid.UUID) -> list[Event]:
    """The coach's decision on the possible existing households, as an event (when there was one)."""
    if match is None:
        return []
    decision = MatchDecision.LINKED if match.linked_to else MatchDecision.NEW_HOUSEHOLD
    return [
        HouseholdMatchDecided(
            household_id=household_id,
            decision=decision,
            candidates=tuple(match.candidates),
            first_contact_id=first_contact,
        )
    ]
