"""Errors services raise; `icam_kernel.http` turns each into an RFC 9457 problem response."""

from __future__ import annotations

from typing import Any


class NotFound(Exception):
    """The thing asked for does not exist (404)."""

    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(f"{what} {identifier!r} not found")
        self.what = what
        self.identifier = identifier


class DomainRuleViolation(Exception):
    """A business rule refuses the command; `status` is 422 (invalid here) or 409 (state conflict).

    Subclass per rule, with a stable `code`: `class OutcomeBeforeInterview(DomainRuleViolation)`.
    """

    status: int = 422
    code: str = "domain-rule-violation"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class Conflict(DomainRuleViolation):
    """The command conflicts with the aggregate's current state (409)."""

    status = 409
    code = "conflict"


class StaleReadModel(Exception):
    """A read model has not yet caught up with a position the caller wrote (503, Retry-After)."""

    def __init__(self, projection: str, wanted: int, current: int) -> None:
        super().__init__(f"read model {projection!r} is at position {current}, wanted {wanted}")
        self.projection = projection
        self.wanted = wanted
        self.current = current
