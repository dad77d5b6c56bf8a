"""The privacy domain as specifications: given the stream, when the order, then events or refusal."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from icam_contracts.enums import ErasureBasis
from icam_privacy.domain import ErasureOrder, Hold, erase, place_hold, release_hold
from icam_privacy.domain.errors import AlreadyErased, HoldAlreadyReleased, NothingToErase

pytestmark = pytest.mark.unit


def order(**changes: object) -> ErasureOrder:
    fields = {
        "erasure_id": uuid4(),
        "person_ids": ("OE-1",),
        "household_ids": (uuid4(),),
        "key_ids": (uuid4(),),
        "legal_basis": ErasureBasis.PURPOSE_ENDED,
        "ordered_by": "dpo-1",
        "order_reference": None,
        "at": datetime.now(UTC),
    } | changes
    return ErasureOrder(**fields)  # type: ignore[arg-type]


def test_an_order_is_announced_once_with_its_keys() -> None:
    given = order()
    (erased,) = erase(False, given)
    assert erased.key_ids == given.key_ids and erased.household_id == given.household_ids[0]
    with pytest.raises(AlreadyErased):
        erase(True, given)


def test_an_order_without_a_household_erases_nothing() -> None:
    with pytest.raises(NothingToErase):
        erase(False, order(household_ids=()))


def test_a_hold_is_released_once() -> None:
    hold_id, household = uuid4(), uuid4()
    (placed,) = place_hold(hold_id, household, "appeal pending", None, "dpo-1")
    hold = Hold(placed.hold_id, placed.household_id)
    (released,) = release_hold(hold, "dpo-1")
    assert released.hold_id == hold_id
    with pytest.raises(HoldAlreadyReleased):
        release_hold(Hold(hold_id, household, released=True), "dpo-1")
