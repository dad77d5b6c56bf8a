"""Who may do what with this case: the rules that need the case itself.

Which roles may call a route at all is the route table's (`icam_auth.policy`), checked before the
route runs; here, on top of it:

* coach — reads cases of their region; records only on cases assigned to them;
* team_lead — reads and records on cases of their region; reassigns and transfers them;
* admin — reads cases (never vulnerability details);
* return_partner — never a case; only the documents a referral it holds open shares with it;
* ops_viewer, auditor — never a case (statistics, the audit log).

Vulnerability details are need-to-know: the assigned coach and the region's team lead.
"""

from __future__ import annotations

from collections.abc import Callable

from icam_auth import Forbidden, Principal, Role
from icam_case.domain import Case
from icam_case.domain.state import Document


def may_read(principal: Principal, case: Case) -> None:
    """Reading a case: its region's coaches and team lead (admins: any region)."""
    if principal.role in (Role.COACH, Role.TEAM_LEAD) and not principal.works_in(case.region):
        raise Forbidden(f"case belongs to region {case.region}, not to yours")


def visible_documents(principal: Principal, case: Case) -> Callable[[Document], bool]:
    """Which documents of the file the caller sees: whoever may read the case, those on the file; a
    return partner, only those shared through a referral of this case it holds open."""
    if principal.role is Role.RETURN_PARTNER:
        if not any(p == principal.organisation for _, p in case.referral_partners):
            raise Forbidden("this household was never referred to your organisation")
        return lambda d: case.shared_with_partner(d, principal.organisation)
    may_read(principal, case)
    return lambda d: not d.removed


def may_record(principal: Principal, case: Case) -> None:
    """Recording on a case: the assigned coach, or the team lead of the case's region."""
    if principal.role is Role.COACH and principal.works_in(case.region):
        if case.coach_id != principal.subject:
            raise Forbidden("only the coach assigned to this case records on it")
        return
    if principal.role is Role.TEAM_LEAD and principal.works_in(case.region):
        return
    raise Forbidden(f"role {principal.role.value} of region {principal.region} may not record on this case")


def may_approve(principal: Principal, case: Case) -> None:
    """Approving or sending back a proposed outcome: the team lead of the case's region."""
    if principal.role is not Role.TEAM_LEAD or not principal.works_in(case.region):
        raise Forbidden("only the team lead of the case's region approves its outcomes")


def may_reassign(principal: Principal, case: Case) -> None:
    """Reassigning and transferring: the team lead of the case's region."""
    if principal.role is not Role.TEAM_LEAD or not principal.works_in(case.region):
        raise Forbidden("only the team lead of the case's region reassigns or transfers it")


def sees_vulnerability_details(principal: Principal, case: Case) -> bool:
    """Need to know: the assigned coach and the region's team lead."""
    if principal.role is Role.COACH:
        return principal.works_in(case.region) and case.coach_id == principal.subject
    return principal.role is Role.TEAM_LEAD and principal.works_in(case.region)


def sees_identity(principal: Principal, case: Case) -> bool:
    """Names, birth dates and languages of the members: whoever coaches the case's region (the
    region's coaches and team lead); admins see dossier references only."""
    return principal.role in (Role.COACH, Role.TEAM_LEAD) and principal.works_in(case.region)


def sees_vulnerability_categories(principal: Principal, case: Case) -> bool:
    """Categories (not details): anyone of the case's region coaching it; admins see none."""
    return principal.role in (Role.COACH, Role.TEAM_LEAD) and principal.works_in(case.region)


def caseload_scope(principal: Principal, region: str | None) -> str | None:
    """The region a caseload query is limited to: their own for coaches and team leads."""
    if principal.role in (Role.COACH, Role.TEAM_LEAD):
        if region and region != principal.region:
            raise Forbidden("the caseload of another region is not yours to see")
        return principal.region
    if principal.role is Role.ADMIN:
        return region
    raise Forbidden(f"role {principal.role.value} may not read caseloads")
