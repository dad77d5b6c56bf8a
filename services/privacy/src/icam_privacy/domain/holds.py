"""A legal hold, pure: placed on a household, released once; retention waits while it holds."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.events import RetentionHoldPlaced, RetentionHoldReleased
from icam_kernel.decider import Aggregate
from icam_privacy.domain.errors import HoldAlreadyReleased


@dataclass(frozen=True)
class Hold:
    hold_id: UUID | None = None
    household_id: UUID | None = None
    released: bool = False


def _evolve(hold: Hold, event: Event, _at: datetime) -> Hold:
    if isinstance(event, RetentionHoldPlaced):
        return Hold(event.hold_id, event.household_id)
    if isinstance(event, RetentionHoldReleased):
        return replace(hold, released=True)
    return hold


HOLD = Aggregate("hold", Hold(), _evolve, lambda hold: hold.hold_id is not None)


def place_hold(
    hold_id: UUID, household_id: UUID, basis: str, reference: str | None, by: str
) -> list[RetentionHoldPlaced]:
    return [
        RetentionHoldPlaced(
            household_id=household_id, hold_id=hold_id, basis=basis, order_reference=reference, placed_by=by
        )
    ]


def release_hold(hold: Hold, by: str) -> list[RetentionHoldReleased]:
    if hold.released:
        raise HoldAlreadyReleased("this hold was already released", hold_id=str(hold.hold_id))
    assert hold.hold_id is not None and hold.household_id is not None
    return [RetentionHoldReleased(household_id=hold.household_id, hold_id=hold.hold_id, released_by=by)]
