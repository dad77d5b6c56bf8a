"""Rules a case command can break, each with a stable code (the problem type).

422: invalid for this case (`field` names the input at fault); 409: refused by the case's state
(the details carry that state); 404: an unknown element. All descend from the kernel's one root.
"""

from __future__ import annotations

from typing import Any

from icam_kernel.errors import Conflict, DomainError, DomainRuleViolation


class CaseRuleViolation(DomainRuleViolation):
    """The command is invalid for this case (422)."""

    code = "case-rule-violation"
    title = "Refused by a case rule"


class UnknownMember(CaseRuleViolation):
    """The dossier reference named is not a member of the household (422)."""

    code = "unknown-member"


class CaseStateConflict(Conflict):
    """The case's current state refuses the command (409); the details carry that state."""

    code = "case-state-conflict"
    title = "Refused by the case's state"

    def __init__(self, message: str, *, status: str, version: int, **details: Any) -> None:
        super().__init__(message, case_status=str(status), case_version=version, **details)


class CaseClosed(CaseStateConflict):
    """The trajectory is closed: nothing more is recorded on it (409)."""

    code = "case-closed"


class CaseSuspended(CaseStateConflict):
    """The trajectory is suspended: resume it first (409)."""

    code = "case-suspended"


class OutcomeBeforeInterview(CaseStateConflict):
    """An outcome is decided only after at least one interview (409)."""

    code = "outcome-before-interview"


class ApprovalPending(CaseStateConflict):
    """An outcome awaits a team lead's approval: nothing else is decided until then (409)."""

    code = "approval-pending"


class NoSuchProposal(CaseStateConflict):
    """No outcome with this id awaits approval (409)."""

    code = "no-such-proposal"


class FourEyesRequired(CaseRuleViolation):
    """The one who proposed an outcome may not approve it too (422)."""

    code = "four-eyes-required"


class RevisionRequired(CaseStateConflict):
    """An outcome was decided already: deciding again must name it and say why (409)."""

    code = "revision-required"


class UnknownElement(DomainError):
    """The dossier element named in the path was never requested on this case (404)."""

    status = 404
    code = "unknown-dossier-element"
    title = "Not found"

    def __init__(self, element_id: str) -> None:
        super().__init__(f"dossier element {element_id!r} not found", element_id=element_id)
