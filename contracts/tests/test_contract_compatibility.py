"""The compatibility gate: what may and may not change in a published event version."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from icam_contracts.compatibility import breaking_changes, compare_schema_sets
from icam_contracts.jsonschema_export import all_schemas

pytestmark = pytest.mark.unit

PUBLISHED: dict[str, Any] = {
    "type": "object",
    "properties": {
        "case_id": {"type": "string", "format": "uuid"},
        "outcome": {"$ref": "#/$defs/Outcome"},
        "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        "attendees": {"type": "array", "items": {"$ref": "#/$defs/Attendee"}},
        "duration_minutes": {"type": "integer", "minimum": 1},
    },
    "required": ["case_id", "outcome", "attendees"],
    "$defs": {
        "Outcome": {"type": "string", "enum": ["legal_stay_possible", "return_accepted"]},
        "Attendee": {
            "type": "object",
            "properties": {"person_id": {"type": "string"}, "role": {"type": "string"}},
            "required": ["person_id"],
        },
    },
}


def changed(edit: Any) -> dict[str, Any]:
    schema = copy.deepcopy(PUBLISHED)
    edit(schema)
    return schema


def messages(new: dict[str, Any]) -> list[str]:
    return [str(change) for change in breaking_changes(PUBLISHED, new, name="X.v1")]


def test_an_unchanged_schema_has_no_breaking_change() -> None:
    assert messages(copy.deepcopy(PUBLISHED)) == []


def test_a_removed_field_is_a_breaking_change() -> None:
    new = changed(lambda s: s["properties"].pop("duration_minutes"))

    assert messages(new) == ["X.v1: duration_minutes: field removed"]


def test_a_field_removed_from_a_nested_object_is_a_breaking_change() -> None:
    new = changed(lambda s: s["$defs"]["Attendee"]["properties"].pop("role"))

    assert messages(new) == ["X.v1: attendees[].role: field removed"]


def test_a_narrowed_type_is_a_breaking_change() -> None:
    new = changed(lambda s: s["properties"].update(note={"type": "string"}))

    assert messages(new) == ["X.v1: note: type narrowed: null no longer accepted"]


def test_a_changed_type_is_a_breaking_change() -> None:
    new = changed(lambda s: s["properties"].update(duration_minutes={"type": "string"}))

    assert messages(new) == ["X.v1: duration_minutes: type changed from integer to string"]


def test_a_widened_type_is_a_breaking_change_for_old_readers() -> None:
    widened = {"anyOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]}
    new = changed(lambda s: s["properties"].update(case_id=widened))

    assert messages(new) == ["X.v1: case_id: type widened: null now allowed, which old readers reject"]


def test_a_new_required_field_is_a_breaking_change() -> None:
    def add_required(schema: dict[str, Any]) -> None:
        schema["properties"]["region"] = {"type": "string"}
        schema["required"].append("region")

    assert messages(changed(add_required)) == ["X.v1: region: new required field"]


def test_a_field_becoming_required_or_optional_is_a_breaking_change() -> None:
    def swap(schema: dict[str, Any]) -> None:
        schema["required"] = ["case_id", "outcome", "duration_minutes"]

    assert messages(changed(swap)) == [
        "X.v1: attendees: required field became optional (old readers expect it)",
        "X.v1: duration_minutes: optional field became required",
    ]


def test_a_removed_enum_value_is_a_breaking_change() -> None:
    new = changed(lambda s: s["$defs"]["Outcome"]["enum"].remove("return_accepted"))

    assert messages(new) == ["X.v1: outcome: enum values removed: ['return_accepted']"]


def test_an_added_enum_value_is_a_breaking_change_for_strict_subscribers() -> None:
    new = changed(lambda s: s["$defs"]["Outcome"]["enum"].append("return_refused"))

    assert messages(new) == [
        "X.v1: outcome: enum values added: ['return_refused'] (strict subscribers reject them)"
    ]


def test_a_tightened_constraint_is_a_breaking_change() -> None:
    new = changed(lambda s: s["properties"]["duration_minutes"].update(minimum=15))

    assert messages(new) == ["X.v1: duration_minutes: minimum changed from 1 to 15"]


def test_a_new_optional_field_and_better_documentation_are_compatible() -> None:
    def add_optional(schema: dict[str, Any]) -> None:
        schema["properties"]["interpreter_present"] = {
            "anyOf": [{"type": "boolean"}, {"type": "null"}],
            "default": None,
            "description": "Whether an interpreter was present.",
        }
        schema["properties"]["case_id"]["description"] = "The case."
        schema["examples"] = [{"case_id": "..."}]

    assert messages(changed(add_optional)) == []


def test_a_published_schema_may_not_disappear_but_new_ones_may_appear() -> None:
    changes = compare_schema_sets({"A.v1": PUBLISHED}, {"B.v1": PUBLISHED})

    assert [str(c) for c in changes] == ["A.v1: (root): published schema removed"]
    assert compare_schema_sets({"A.v1": PUBLISHED}, {"A.v1": PUBLISHED, "A.v2": {}}) == []


def test_the_current_models_are_compatible_with_themselves() -> None:
    schemas = all_schemas()

    assert compare_schema_sets(schemas, schemas) == []
