"""An erasure order, pure: one stream per order, one `PersonalDataErased` when it is given.

What the order destroys is decided before (the service gathers the persons' households and live
key ids); the decider checks the order is whole and not a repeat of the same stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from icam_contracts.enums import ErasureBasis
from icam_contracts.events import PersonalDataErased
from icam_kernel.decider import Aggregate
from icam_privacy.domain.errors import AlreadyErased, NothingToErase


@dataclass(frozen=True)
class ErasureOrder:
    """Who is erased, why, on whose order, and what their keys are."""

    erasure_id: UUID
    person_ids: tuple[str, ...]
    household_ids: tuple[UUID, ...]
    key_ids: tuple[UUID, ...]
    legal_basis: ErasureBasis
    ordered_by: str
    order_reference: str | None
    at: datetime


def _evolve(given: bool, _event: object, _at: datetime) -> bool:
    return True


ERASURE = Aggregate("erasure", False, _evolve, lambda given: given)


def erase(given: bool, order: ErasureOrder) -> list[PersonalDataErased]:
    """The order, once: persons named, and their households known (the free texts' keys)."""
    if given:
        raise AlreadyErased("this erasure order was already given", erasure_id=str(order.erasure_id))
    if not order.person_ids or not order.household_ids:
        raise NothingToErase("an erasure names at least one person and their household")
    return [
        PersonalDataErased(
            household_id=order.household_ids[0],
            erasure_id=order.erasure_id,
            person_ids=order.person_ids,
            household_ids=order.household_ids,
            key_ids=order.key_ids,
            legal_basis=order.legal_basis,
            ordered_by=order.ordered_by,
            order_reference=order.order_reference,
            erased_at=order.at,
        )
    ]
