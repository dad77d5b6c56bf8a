"""Who may act on a referral, beyond the route table's roles."""

from __future__ import annotations

from icam_auth import Forbidden, Principal, Role
from icam_kernel.errors import NotFound
from icam_referral.domain import Referral


def authorise(
    principal: Principal, state: Referral, *, coaches_too: bool = False, coach: str | None = None
) -> None:
    """Partners act on their own referrals only (others look non-existent); with `coaches_too`, the
    case's assigned `coach` and team leads of the referral's region may act as well."""
    if principal.role is Role.RETURN_PARTNER:
        if state.partner is None or not principal.acts_for(state.partner):
            raise NotFound("referral", str(state.referral_id))
        return
    in_region = state.region is not None and principal.works_in(state.region)
    if coaches_too and in_region and principal.role is Role.TEAM_LEAD:
        return
    if coaches_too and in_region and principal.role is Role.COACH and principal.subject == coach:
        return
    raise Forbidden(f"role {principal.role.value} may not do this to this referral")


def may_read(principal: Principal, region: str | None, partner: str) -> None:
    """Partners read their own referrals (others look non-existent); coaches and team leads those
    of their region; admins all."""
    if principal.role is Role.RETURN_PARTNER:
        if not principal.acts_for(partner):
            raise NotFound("referral", "")
        return
    if principal.role in (Role.COACH, Role.TEAM_LEAD) and not principal.works_in(region or ""):
        raise Forbidden("the referrals of another region are not yours to see")
