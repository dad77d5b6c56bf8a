"""The pure domain of the invitation service: decisions return contract events, no I/O."""

from icam_invitation.domain.calendar import DeskHours, NoticePeriod, WorkingHours, belgian_public_holiday
from icam_invitation.domain.desk import DESK_VISIT, Desk, RegisterWalkIn, register_walk_in
from icam_invitation.domain.invitation import INVITATION, Invitation, SchedulingPolicy, SendInvitation, Status
from icam_invitation.domain.offices import DEFAULT_POSTAL_RANGES, OfficeFinder, PostalRange
from icam_invitation.domain.requests import REQUEST, AppointmentRequest

__all__ = [
    "DEFAULT_POSTAL_RANGES",
    "DESK_VISIT",
    "INVITATION",
    "REQUEST",
    "AppointmentRequest",
    "Desk",
    "DeskHours",
    "Invitation",
    "NoticePeriod",
    "OfficeFinder",
    "PostalRange",
    "RegisterWalkIn",
    "SchedulingPolicy",
    "SendInvitation",
    "Status",
    "WorkingHours",
    "belgian_public_holiday",
    "register_walk_in",
]
