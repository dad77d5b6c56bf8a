"""Upcasting old versions, and the reference data every service shares."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from icam_contracts import parse, upcast
from icam_contracts.events import InterviewHeld, InterviewHeldV1
from icam_contracts.jsonschema_export import example_payload
from icam_contracts.reference import DEFAULT_REFERENCE_DATA, load_reference_data

pytestmark = pytest.mark.unit


def test_a_v1_interview_parses_as_v2_with_the_interpreter_unknown() -> None:
    v1 = example_payload(InterviewHeldV1)

    event = parse("InterviewHeld", 1, v1)

    assert isinstance(event, InterviewHeld)
    assert event.interpreter_present is None
    assert event.interpreter_language is None
    assert event.interview_id == InterviewHeldV1.model_validate(v1).interview_id


def test_upcasting_returns_the_version_it_reached_and_leaves_the_input_alone() -> None:
    v1 = example_payload(InterviewHeldV1)

    version, data = upcast("InterviewHeld", 1, v1)

    assert version == 2
    assert data["interpreter_present"] is None
    assert "interpreter_present" not in v1


def test_the_latest_version_is_not_upcast() -> None:
    v2 = example_payload(InterviewHeld)

    assert upcast("InterviewHeld", 2, v2) == (2, v2)
    assert parse("InterviewHeld", 2, v2) == InterviewHeld.model_validate(v2)


def test_every_region_office_and_desk_of_the_defaults_resolves() -> None:
    data = DEFAULT_REFERENCE_DATA

    assert len(data.regions) == 5
    assert len(data.offices) == 7
    assert {d.office for d in data.desks} == {"brussels", "antwerp", "liege"}
    assert all(d.weekday == 2 and d.opens.hour == 9 and d.closes.hour == 12 for d in data.desks)
    assert data.partner("fedasil") is not None
    assert [o.code for o in data.offices_in("namur_luxembourg")] == ["namur", "neufchateau"]


def test_a_deployment_overrides_a_section_of_the_reference_data(tmp_path: Path) -> None:
    partners = [
        {"code": "fedasil", "name": "Fedasil", "services": ["return_desk"]},
        {"code": "cpas_liege", "name": "CPAS de Liège", "services": ["return_counselling"]},
    ]
    file = tmp_path / "reference.json"
    file.write_text(json.dumps({"partners": partners}), encoding="utf-8")

    data = load_reference_data(file)

    assert data.partner("cpas_liege") is not None
    assert data.partner("iom") is None
    assert data.regions == DEFAULT_REFERENCE_DATA.regions


def test_reference_data_with_an_office_in_an_unknown_region_is_rejected(tmp_path: Path) -> None:
    offices = [{"code": "arlon", "region": "luxembourg", "city": "Arlon"}]
    file = tmp_path / "reference.json"
    file.write_text(json.dumps({"offices": offices, "desks": []}), encoding="utf-8")

    with pytest.raises(ValidationError, match="unknown region"):
        load_reference_data(file)
