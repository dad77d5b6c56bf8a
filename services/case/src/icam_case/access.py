"""Who may do what with a case. The gateway checks first; the service checks again, here.

* coach — reads cases of their region; records only on cases assigned to them;
* team_lead — reads and records on cases of their region; reassigns and transfers them;
* auditor, admin — read cases (never vulnerability details); no commands;
* ops_viewer — aggregated statistics only, never a case.

Vulnerability details are need-to-know: the assigned coach and the region's team lead.
"""

from __future__ import annotations

from icam_auth import Forbidden, Principal, Role
from icam_case.domain import Case

READERS = frozenset({Role.COACH, Role.TEAM_LEAD, Role.AUDITOR, Role.ADMIN})
STATS_READERS = frozenset({Role.OPS_VIEWER, Role.TEAM_LEAD, Role.AUDITOR, Role.ADMIN})


def may_read(principal: Principal, case: Case) -> None:
    """Reading a case: its region's coaches and team lead, auditors and admins."""
    if principal.role not in READERS:
        raise Forbidden(f"role {principal.role.value} may not read cases")
    if principal.role in (Role.COACH, Role.TEAM_LEAD) and not principal.works_in(case.region):
        raise Forbidden(f"case belongs to region {case.region}, not to yours")


def may_record(principal: Principal, case: Case) -> None:
    """Recording on a case: the assigned coach, or the team lead of the case's region."""
    if principal.role is Role.COACH and principal.works_in(case.region):
        if case.coach_id != principal.subject:
            raise Forbidden("only the coach assigned to this case records on it")
        return
    if principal.role is Role.TEAM_LEAD and principal.works_in(case.region):
        return
    raise Forbidden(f"role {principal.role.value} of region {principal.region} may not record on this case")


def may_reassign(principal: Principal, case: Case) -> None:
    """Reassigning and transferring: the team lead of the case's region."""
    if principal.role is not Role.TEAM_LEAD or not principal.works_in(case.region):
        raise Forbidden("only the team lead of the case's region reassigns or transfers it")


def sees_vulnerability_details(principal: Principal, case: Case) -> bool:
    """Need to know: the assigned coach and the region's team lead."""
    if principal.role is Role.COACH:
        return principal.works_in(case.region) and case.coach_id == principal.subject
    return principal.role is Role.TEAM_LEAD and principal.works_in(case.region)


def sees_vulnerability_categories(principal: Principal, case: Case) -> bool:
    """Categories (not details): anyone of the case's region coaching it; auditors and admins see none."""
    return principal.role in (Role.COACH, Role.TEAM_LEAD) and principal.works_in(case.region)


def may_read_stats(principal: Principal) -> None:
    """Counts only: ops viewers, team leads, auditors, admins."""
    if principal.role not in STATS_READERS:
        raise Forbidden(f"role {principal.role.value} may not read statistics")


def caseload_scope(principal: Principal, region: str | None) -> str | None:
    """The region a caseload query is limited to: their own for coaches and team leads."""
    if principal.role in (Role.COACH, Role.TEAM_LEAD):
        if region and region != principal.region:
            raise Forbidden("the caseload of another region is not yours to see")
        return principal.region
    if principal.role in (Role.AUDITOR, Role.ADMIN):
        return region
    raise Forbidden(f"role {principal.role.value} may not read caseloads")
