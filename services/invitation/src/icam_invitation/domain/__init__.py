"""The pure domain of the invitation service: decisions return contract events, no I/O."""

from icam_invitation.domain.calendar import DeskHours, NoticePeriod, WorkingHours, belgian_public_holiday
from icam_invitation.domain.desk import Desk, RegisterWalkIn, register_walk_in
from icam_invitation.domain.invitation import Invitation, SchedulingPolicy, SendInvitation, Status
from icam_invitation.domain.offices import DEFAULT_POSTAL_RANGES, OfficeFinder, PostalRange
from icam_invitation.domain.requests import AppointmentRequest

__all__ = [
    "DEFAULT_POSTAL_RANGES",
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
