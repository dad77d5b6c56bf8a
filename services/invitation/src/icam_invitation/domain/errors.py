"""Rules the invitation domain refuses commands with; each becomes a problem+json response.

All descend from the kernel's one root (`icam_kernel.errors`).

422: the command is invalid as such (and ``field`` names the request field at fault);
409: it conflicts with the current state of an invitation, a request or a coach's agenda.
"""

from __future__ import annotations

from typing import Any

from icam_kernel.errors import Conflict, DomainRuleViolation


class InvalidCommand(DomainRuleViolation):
    """A field of the command is invalid; ``field`` says which (422)."""

    code = "invalid-command"

    def __init__(self, message: str, field: str, **details: Any) -> None:
        super().__init__(message, field=field, **details)


class AddressNotServed(InvalidCommand):
    """No postal code, a foreign address, or a code no ICAM office serves."""

    code = "address-not-served"


class SlotOutsideWorkingHours(InvalidCommand):
    """Interviews take place on working days within office hours."""

    code = "slot-outside-working-hours"


class SlotTooEarly(InvalidCommand):
    """The slot is in the past or inside the notice period; the error names the earliest valid slot."""

    code = "slot-too-early"


class DeskClosed(InvalidCommand):
    """A walk-in visit outside the desk's opening hours; the error says when it next opens."""

    code = "desk-closed"


class NotOpen(Conflict):
    """The invitation or request is already settled (cancelled, honoured, no-show, closed)."""

    code = "not-open"


class RescheduleLimitReached(Conflict):
    """An invitation may be rescheduled only a configured number of times."""

    code = "reschedule-limit-reached"


class CoachDoubleBooked(Conflict):
    """The coach already has an interview overlapping the requested slot."""

    code = "coach-double-booked"


class SlotTooLate(InvalidCommand):
    """The slot is further ahead than the booking horizon allows."""

    code = "slot-too-late"
