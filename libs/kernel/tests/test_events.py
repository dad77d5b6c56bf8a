"""`NewEvent.from_model` takes the contracts' models as they are (ClassVar type and version).

Typed on purpose: `mypy --strict libs/kernel/tests/test_events.py` fails if `ContractModel` stops
accepting `ClassVar` attributes again.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import ClassVar

import pytest
from pydantic import BaseModel

from icam_contracts.events import InvitationSent
from icam_contracts.jsonschema_export import example_payload
from icam_kernel.events import Actor, ContractModel, NewEvent

pytestmark = pytest.mark.unit

COACH = Actor(id="coach-1", role="coach")


class CaseReopened(BaseModel):
    event_type: ClassVar[str] = "CaseReopened"
    event_version: ClassVar[int] = 2

    case_id: str


def test_a_contracts_model_becomes_a_new_event_with_its_class_type_and_version() -> None:
    sent = InvitationSent.model_validate(example_payload(InvitationSent))

    new = NewEvent.from_model(sent, actor=COACH, correlation_id="journey-1")

    assert (new.event_type, new.event_version) == ("InvitationSent", 1)
    assert new.data == sent.model_dump(mode="json")


def test_any_model_with_class_variables_satisfies_the_protocol() -> None:
    model: ContractModel = CaseReopened(case_id="c-1")
    at = datetime(2025, 3, 1, tzinfo=UTC)

    new = NewEvent.from_model(model, actor=COACH, correlation_id="j", causation_id="cmd-1", occurred_at=at)

    assert (new.event_type, new.event_version, new.data) == ("CaseReopened", 2, {"case_id": "c-1"})
    assert (new.causation_id, new.occurred_at) == ("cmd-1", at)


def test_a_given_event_id_is_kept_and_otherwise_each_event_gets_its_own() -> None:
    derived = uuid.uuid5(uuid.NAMESPACE_URL, "caused-by/e-1")
    model = CaseReopened(case_id="c-1")

    kept = NewEvent.from_model(model, actor=COACH, correlation_id="j", event_id=derived)
    first, second = (NewEvent.from_model(model, actor=COACH, correlation_id="j") for _ in range(2))

    assert kept.event_id == derived
    assert first.event_id != second.event_id
