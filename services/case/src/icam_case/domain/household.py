"""Changes of the coached household during the trajectory: a birth, a member joining or leaving."""

from __future__ import annotations

from icam_case.domain.decide import ensure_not_closed, member_of
from icam_case.domain.errors import CaseRuleViolation
from icam_case.domain.state import Case
from icam_contracts.enums import MemberChange
from icam_contracts.events.case import CaseEvent, HouseholdMemberAdded, HouseholdMemberLeft
from icam_contracts.personal_data import PersonalData


def add_member(case: Case, member: PersonalData, change: MemberChange) -> list[CaseEvent]:
    """A birth or a family member joining: the household grows, with a record of their own."""
    ensure_not_closed(case, "change the household")
    if change not in (MemberChange.BIRTH, MemberChange.JOINED):
        raise CaseRuleViolation("a member is added for a birth or on joining", field="change")
    if case.member(member.person_id) is not None:
        raise CaseRuleViolation(f"{member.person_id!r} is a member already", field="member.person_id")
    assert case.case_id is not None and case.household_id is not None
    return [
        HouseholdMemberAdded(
            household_id=case.household_id, case_id=case.case_id, member=member, change=change
        )
    ]


def member_left(case: Case, person_id: str, change: MemberChange) -> list[CaseEvent]:
    """A member left the household (or died); their record stays with the case."""
    ensure_not_closed(case, "change the household")
    if change not in (MemberChange.LEFT, MemberChange.DECEASED):
        raise CaseRuleViolation("a member leaves, or is deceased", field="change")
    member = member_of(case, person_id, "person_id")
    if member.left:
        raise CaseRuleViolation(f"{person_id!r} left the household already", field="person_id")
    if len(case.present_members) == 1:
        raise CaseRuleViolation(
            "the last member of a household cannot leave it: close the case", field="person_id"
        )
    assert case.case_id is not None and case.household_id is not None
    return [
        HouseholdMemberLeft(
            household_id=case.household_id, case_id=case.case_id, person_id=person_id, change=change
        )
    ]
