"""Walk-in desks: a visit is registered only while the desk is open, and leads to an interview on
the spot or an invitation for later. A visit is a one-event stream (``WalkInRegistered``)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Final
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.enums import EntryChannel, Language
from icam_contracts.events.invitation import InvitationSent, WalkInOutcome, WalkInRegistered
from icam_contracts.personal_data import PersonalData
from icam_invitation.domain.calendar import DeskHours
from icam_invitation.domain.errors import DeskClosed, InvalidCommand
from icam_invitation.domain.invitation import SchedulingPolicy, SendInvitation, send
from icam_invitation.domain.offices import OfficeFinder
from icam_kernel.decider import Aggregate


@dataclass(frozen=True)
class Desk:
    """A walk-in desk: its code, the office it belongs to, and its opening hours."""

    code: str
    office: str
    hours: DeskHours


@dataclass(frozen=True)
class RegisterWalkIn:
    """Who came, who received them, and what it led to (``invitation`` when not seen on the spot)."""

    visit_id: UUID
    household_id: UUID
    members: tuple[PersonalData, ...]
    outcome: WalkInOutcome
    coach_id: str | None = None
    language: Language | None = None
    invitation: SendInvitation | None = None


def register_walk_in(
    desk: Desk,
    command: RegisterWalkIn,
    policy: SchedulingPolicy,
    offices: OfficeFinder,
    now: datetime,
) -> tuple[WalkInRegistered, InvitationSent | None]:
    """Register a visit during opening hours; an outcome of ``invitation`` also sends one."""
    if not desk.hours.is_open(now):
        opens = desk.hours.next_opening(now)
        raise DeskClosed(
            f"the desk {desk.code} is closed; it next opens {opens.isoformat()}",
            "desk",
            next_opening=opens.isoformat(),
        )
    adults = sum(1 for m in command.members if not m.is_minor)
    if adults < 1:
        raise InvalidCommand("a household has at least one adult member", "members")
    region = offices.region_of(desk.office, "desk")
    first_adult = next(m for m in command.members if not m.is_minor)
    language = command.language or offices.language_for(region, first_adult.preferred_language)
    sent = None
    if command.outcome is WalkInOutcome.INVITATION:
        if command.invitation is None:
            raise InvalidCommand("an outcome of 'invitation' needs the invitation's slot", "invitation")
        sent = send(
            replace(
                command.invitation,
                household_id=command.household_id,
                members=command.members,
                office=command.invitation.office or desk.office,
                language=command.invitation.language or language,
                entry_channel=EntryChannel.WALK_IN,
            ),
            policy,
            offices,
            now,
        )
    visit = WalkInRegistered(
        household_id=command.household_id,
        visit_id=command.visit_id,
        desk=desk.code,
        region=region,
        coach_id=command.coach_id,
        language=language,
        members=command.members,
        adults=adults,
        minors=len(command.members) - adults,
        outcome=command.outcome,
        invitation_id=sent.invitation_id if sent else None,
    )
    return visit, sent


def _visited(state: WalkInRegistered | None, event: Event, at: datetime) -> WalkInRegistered | None:
    return event if isinstance(event, WalkInRegistered) else state


DESK_VISIT: Final[Aggregate[WalkInRegistered | None]] = Aggregate(
    "desk visit", None, _visited, lambda visit: visit is not None
)
"""A visit is a one-event stream: its state is that event (`icam_kernel.decider`)."""
