"""Rules a command can break, each with a stable code: 422 invalid here, 409 refused by the case's state.

Plain exceptions, so that the domain depends on nothing; `api.py` turns them into problem+json.
"""

from __future__ import annotations

from typing import Any


class CaseError(Exception):
    """A command the case refuses; `status` is the HTTP status, `details` go into the problem body."""

    status: int = 422
    code: str = "case-rule-violation"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class CaseRuleViolation(CaseError):
    """The command is invalid for this case (422); `field` names the offending input when there is one."""

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message, **({"field": field} if field else {}), **details)
        self.field = field


class UnknownMember(CaseRuleViolation):
    code = "unknown-member"


class CaseStateConflict(CaseError):
    """The case's current state refuses the command (409); the details carry that state."""

    status = 409
    code = "case-state-conflict"

    def __init__(self, message: str, *, status: str, version: int, **details: Any) -> None:
        super().__init__(message, case_status=str(status), case_version=version, **details)


class CaseClosed(CaseStateConflict):
    code = "case-closed"


class CaseSuspended(CaseStateConflict):
    code = "case-suspended"


class OutcomeBeforeInterview(CaseStateConflict):
    code = "outcome-before-interview"


class RevisionRequired(CaseStateConflict):
    """An outcome was decided already: deciding again must name it and say why."""

    code = "revision-required"


class UnknownElement(CaseError):
    """The dossier element named in the path was never requested on this case (404)."""

    status = 404
    code = "unknown-dossier-element"

    def __init__(self, element_id: str) -> None:
        super().__init__(f"dossier element {element_id!r} not found", element_id=element_id)
