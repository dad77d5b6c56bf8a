"""The Case aggregate, pure: state folded from events, commands and reactions returning new events."""

from icam_case.domain.commands import DecideOutcome, Decider, MissingElement, RecordInterview
from icam_case.domain.decide import (
    assign_coach,
    close,
    flag_vulnerability,
    receive_element,
    record_interview,
    resume,
    suspend,
    transfer,
)
from icam_case.domain.documents import AddDocument, add_document, remove_document, share_document
from icam_case.domain.errors import CaseRuleViolation, CaseStateConflict
from icam_case.domain.household import add_member, member_left
from icam_case.domain.outcomes import approve_outcome, decide_outcome, reject_proposal
from icam_case.domain.react import (
    appointment_changed,
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
    "AddDocument",
    "Case",
    "CaseRuleViolation",
    "CaseStateConflict",
    "CaseStatus",
    "DecideOutcome",
    "Decider",
    "MissingElement",
    "RecordInterview",
    "add_document",
    "add_member",
    "appointment_changed",
    "approve_outcome",
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
    "member_left",
    "note_referral",
    "open_case",
    "receive_element",
    "record_interview",
    "reject_proposal",
    "remove_document",
    "resume",
    "share_document",
    "suspend",
    "transfer",
    "withdraw_referral",
]
