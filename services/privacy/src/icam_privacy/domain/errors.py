"""Why the privacy service refuses an order (problem+json `type` = code)."""

from __future__ import annotations

from icam_kernel.errors import Conflict, DomainError, DomainRuleViolation, NotFound


class UnknownPerson(NotFound):
    """No household of the platform names this dossier reference: nothing to erase or export."""

    code = "unknown-person"
    title = "Unknown person"

    def __init__(self) -> None:
        DomainError.__init__(
            self, "no household of the platform names this dossier reference", field="person_id"
        )
        self.what, self.identifier = "person", ""


class AlreadyErased(Conflict):
    """The person was erased before: the first order's receipt answers (`erasure_id`)."""

    code = "already-erased"
    title = "Already erased"


class HoldAlreadyReleased(Conflict):
    code = "hold-already-released"
    title = "Hold already released"


class NothingToErase(DomainRuleViolation):
    code = "nothing-to-erase"
    title = "Nothing to erase"
