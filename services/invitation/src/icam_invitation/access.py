"""Who may act on what, beyond the route table's roles: regions and a coach's own bookings."""

from __future__ import annotations

from icam_auth import Forbidden, Principal, Role
from icam_invitation.domain import AppointmentRequest, Invitation


def authorise_region(principal: Principal, region: str | None) -> None:
    """Coaches and team leads act in their own region only."""
    if region is not None and not principal.works_in(region):
        raise Forbidden(f"{principal.role.value} of region {principal.region} may not act in region {region}")


def coach_to_book(principal: Principal, coach_id: str | None) -> str | None:
    """A coach books only themselves (by default too); a team lead may book any coach, or none."""
    if principal.role is Role.COACH:
        if coach_id not in (None, principal.subject):
            raise Forbidden("a coach may only book themselves; a team lead books other coaches")
        return principal.subject
    return coach_id


def may_change(principal: Principal, invitation: Invitation) -> None:
    """An invitation of the caller's region; a coach only their own (or an unassigned one)."""
    authorise_region(principal, invitation.region)
    if principal.role is Role.COACH and invitation.coach_id not in (None, principal.subject):
        raise Forbidden("a coach acts only on their own invitations")


def may_handle(principal: Principal, request: AppointmentRequest) -> None:
    """A helpline request of the caller's region (or of none yet)."""
    authorise_region(principal, request.region)
