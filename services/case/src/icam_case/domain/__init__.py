"""The Case aggregate, pure: state folded from events, commands and reactions returning new events."""

from icam_case.domain.commands import DecideOutcome, Decider, MissingElement, RecordInterview
from icam_case.domain.decide import (
    assign_coach,
    close,
    decide_outcome,
    flag_vulnerability,
    receive_element,
    record_interview,
    resume,
    suspend,
    transfer,
)
from icam_case.domain.errors import CaseRuleViolation, CaseStateConflict
from icam_case.domain.react import (
    attach_invitation,
    complete_return,
    count_no_show,
    flag_contact_problem,
    note_referral,
    open_case,
    withdraw_referral,
)
from icam_case.domain.state import CASE, Case, CaseStatus, evolve, fold

__all__ = [
    "CASE",
    "Case",
    "CaseRuleViolation",
    "CaseStateConflict",
    "CaseStatus",
    "DecideOutcome",
    "Decider",
    "MissingElement",
    "RecordInterview",
    "assign_coach",
    "attach_invitation",
    "close",
    "complete_return",
    "count_no_show",
    "decide_outcome",
    "evolve",
    "flag_contact_problem",
    "flag_vulnerability",
    "fold",
    "note_referral",
    "open_case",
    "receive_element",
    "record_interview",
    "resume",
    "suspend",
    "transfer",
    "withdraw_referral",
]
