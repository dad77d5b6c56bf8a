"""JSON Schema of every event version (and of the envelope), with an example payload each.

The example payload of a model is assembled from the first ``examples`` entry of each of its
fields and validated by the model itself, so an example can never disagree with the contract.
Published schemas are *open*: ``additionalProperties: false`` is removed, because subscribers
must ignore fields they do not know (see ``base.py``).
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import BaseModel

from icam_contracts.base import Event
from icam_contracts.envelope import ACTOR_EXAMPLE, ENVELOPE_VERSION, EventEnvelope
from icam_contracts.registry import EVENT_CLASSES

JSON_SCHEMA_DIALECT: Final = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_SCHEMA_NAME: Final = f"EventEnvelope.v{ENVELOPE_VERSION}"


class MissingExample(ValueError):
    """A contract field has no example, so no example payload can be assembled."""


def example_payload(model: type[BaseModel]) -> dict[str, Any]:
    """An example of ``model`` as JSON data: the first example of every field, validated."""
    raw: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        if not field.examples:
            raise MissingExample(f"{model.__name__}.{name} has no example")
        raw[name] = field.examples[0]
    return model.model_validate(raw).model_dump(mode="json")


def example_envelope(event: type[Event]) -> dict[str, Any]:
    """An example envelope carrying the example payload of ``event``."""
    data = example_payload(event)
    envelope = example_payload(EventEnvelope) | {
        "event_type": event.event_type,
        "event_version": event.event_version,
        "stream_id": str(data[event.key_field]),
        "actor": ACTOR_EXAMPLE,
        "correlation_id": data["household_id"],
        "data": data,
    }
    return EventEnvelope.model_validate(envelope).model_dump(mode="json")


def _open(node: Any) -> Any:
    """The schema without ``additionalProperties: false`` anywhere: readers ignore extras."""
    if isinstance(node, dict):
        return {
            key: _open(value)
            for key, value in node.items()
            if not (key == "additionalProperties" and value is False)
        }
    if isinstance(node, list):
        return [_open(item) for item in node]
    return node


def event_schema(event: type[Event]) -> dict[str, Any]:
    """The published JSON Schema of the data of one event version."""
    schema: dict[str, Any] = _open(event.model_json_schema(mode="validation"))
    header = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:icam:event:{event.event_type}:v{event.event_version}",
    }
    metadata = {
        "x-event-type": event.event_type,
        "x-event-version": event.event_version,
        "x-topic": event.topic,
        "x-key": event.key_field,
        "examples": [example_payload(event)],
    }
    return header | schema | metadata


def envelope_schema() -> dict[str, Any]:
    """The published JSON Schema of the envelope every event travels in."""
    schema: dict[str, Any] = _open(EventEnvelope.model_json_schema(mode="validation"))
    header = {"$schema": JSON_SCHEMA_DIALECT, "$id": f"urn:icam:envelope:v{ENVELOPE_VERSION}"}
    return header | schema | {"examples": [example_payload(EventEnvelope)]}


def schema_file_name(event: type[Event]) -> str:
    """File name of an event version's schema, e.g. ``InvitationSent.v1.json``."""
    return f"{event.schema_name()}.json"


def all_schemas() -> dict[str, dict[str, Any]]:
    """Every published schema, by file name, in a stable order."""
    schemas = {f"{ENVELOPE_SCHEMA_NAME}.json": envelope_schema()}
    for event in sorted(EVENT_CLASSES, key=lambda cls: (cls.event_type, cls.event_version)):
        schemas[schema_file_name(event)] = event_schema(event)
    return schemas


def render_json(document: dict[str, Any]) -> str:
    """The canonical text of a JSON artefact: 2-space indent, UTF-8, final newline."""
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
