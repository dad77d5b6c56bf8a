"""The one root of every refusal a service gives; `icam_kernel.http` turns each into problem+json.

Every domain imports its errors from here and subclasses them with a stable `code` (the problem
type `urn:icam:problem:<code>`); `docs/problems.md` lists every code (`icam_kernel.problems`).
These classes are plain exceptions: a domain that raises them stays free of I/O and frameworks.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A command refused: `status` is the HTTP status (422 invalid, 409 state conflict, 404 unknown).

    `field` names the request field at fault, when there is one (a UI shows the sentence next to
    it); `details` go into the problem body as extension members. Neither may carry personal data.
    """

    status: int = 422
    code: str = "domain-rule-violation"
    title: str = "Refused by a business rule"

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.field = field
        self.details: dict[str, Any] = {**({"field": field} if field else {}), **details}


class DomainRuleViolation(DomainError):
    """A business rule refuses the command as such (422).

    Subclass per rule, with a stable `code`: `class OutcomeBeforeInterview(DomainRuleViolation)`.
    """


class Conflict(DomainError):
    """The command conflicts with the current state of what it acts on (409)."""

    status = 409
    code = "conflict"
    title = "Conflicts with the current state"


class NotFound(DomainError):
    """The thing asked for does not exist, or is not the caller's to see (404)."""

    status = 404
    code = "not-found"
    title = "Not found"

    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(f"{what} {identifier!r} not found")
        self.what = what
        self.identifier = identifier


class AlreadyExists(Conflict):
    """A command that creates something named an id that is taken (409); a retry of the same
    command with the same body is answered from the idempotency record instead."""

    code = "already-exists"

    def __init__(self, what: str, identifier: str) -> None:
        super().__init__(f"{what} {identifier!r} exists already")


class IdempotencyKeyReused(DomainError):
    """The same idempotency key (or client-chosen id) came with a different request (422)."""

    code = "idempotency-key-reused"
    title = "Idempotency key reused"

    def __init__(self, field: str) -> None:
        super().__init__(
            f"this {field} was already used for a different request: use a new one for a new request",
            field=field,
        )


class EventTooLarge(DomainError):
    """The command would record an event larger than its topic accepts (413); nothing was recorded.

    The details name the event type, its size and the limit (`ICAM_MAX_EVENT_BYTES`), never its
    content."""

    status = 413
    code = "event-too-large"
    title = "Event too large to publish"

    def __init__(self, event_type: str, size: int, limit: int) -> None:
        super().__init__(
            f"a {event_type} of about {size} bytes is over the topic's limit of {limit} bytes",
            event_type=event_type,
            size_bytes=size,
            limit_bytes=limit,
        )


class DatabaseUnavailable(DomainError):
    """The service's database is down, restarting or refusing writes for a moment (503, Retry-After):
    send the same request again, with the same `Idempotency-Key`.

    Raised once a command's retries reach their ceiling (`ICAM_COMMAND_RETRY_SECONDS`), and for a
    read that meets an outage. `outcome_unknown` is true when the connection was lost while the
    command committed: the same key then answers what happened."""

    status = 503
    code = "database-unavailable"
    title = "Database unavailable"

    def __init__(self, *, outcome_unknown: bool = False) -> None:
        super().__init__(
            "the database is unavailable for now: retry with the same Idempotency-Key",
            outcome_unknown=outcome_unknown,
        )


class StaleReadModel(Exception):
    """A read model has not yet caught up with a position the caller wrote (503, Retry-After)."""

    def __init__(self, projection: str, wanted: int, current: int) -> None:
        super().__init__(f"read model {projection!r} is at position {current}, wanted {wanted}")
        self.projection = projection
        self.wanted = wanted
        self.current = current
