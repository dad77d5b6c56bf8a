"""From a Kafka record to an event you can act on: validated against the published JSON Schemas
(`contracts/schemas`), and brought to the newest version of its type by the contracts' upcasters.

The schemas are the contract: the envelope against `EventEnvelope.v1.json`, the data against
`<event_type>.v<event_version>.json` of the version it was published in. Then the upcasters of
`icam_contracts.upcasting` (pure functions on dicts, no model classes) lift the data to the newest
version published, and the result is checked against that version's schema too, so the handler
only ever sees the newest shape.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError

from icam_contracts.upcasting import upcast

_SCHEMA_FILE = re.compile(r"^(?P<type>[A-Za-z]+)\.v(?P<version>[0-9]+)\.json$")


class ContractViolation(ValueError):
    """The record does not keep the published contract: a poison message for this subscriber."""


@dataclass(frozen=True)
class Event:
    """One event at the newest version of its type."""

    event_id: str
    event_type: str
    version: int
    published_version: int  # what the producer wrote; lower than `version` when upcast
    stream_id: str
    correlation_id: str
    occurred_at: str
    data: dict[str, Any]


class PublishedSchemas:
    """Every schema of the contracts folder, by event type and version."""

    def __init__(self, folder: Path) -> None:
        self.validators: dict[tuple[str, int], Draft202012Validator] = {}
        for path in folder.glob("*.json"):
            if match := _SCHEMA_FILE.match(path.name):
                schema = json.loads(path.read_text())
                key = (match["type"], int(match["version"]))
                self.validators[key] = Draft202012Validator(schema, format_checker=FormatChecker())
        if ("EventEnvelope", 1) not in self.validators:
            raise FileNotFoundError(f"no EventEnvelope.v1.json in {folder}")

    def newest(self, event_type: str) -> int:
        versions = [v for (t, v) in self.validators if t == event_type]
        if not versions:
            raise ContractViolation(f"unknown event type {event_type}")
        return max(versions)

    def check(self, name: str, version: int, document: Any) -> None:
        validator = self.validators.get((name, version))
        if validator is None:
            raise ContractViolation(f"no published schema for {name} v{version}")
        try:
            validator.validate(document)
        except ValidationError as error:
            where = "/".join(str(p) for p in error.absolute_path) or "(root)"
            raise ContractViolation(f"{name} v{version}: {where}: {error.message}") from None


def decode(schemas: PublishedSchemas, value: bytes | None) -> Event:
    """The event a record carries, at the newest version; ContractViolation if it breaks the contract."""
    try:
        envelope = json.loads(value or b"")
    except ValueError:
        raise ContractViolation("the value is not JSON") from None
    schemas.check("EventEnvelope", 1, envelope)
    event_type, published = envelope["event_type"], envelope["event_version"]
    schemas.check(event_type, published, envelope["data"])
    version, data = upcast(event_type, published, envelope["data"])
    if version != schemas.newest(event_type):
        raise ContractViolation(f"no upcaster from {event_type} v{version}: update icam-contracts")
    schemas.check(event_type, version, data)
    return Event(
        event_id=envelope["event_id"],
        event_type=event_type,
        version=version,
        published_version=published,
        stream_id=envelope["stream_id"],
        correlation_id=envelope["correlation_id"],
        occurred_at=envelope["occurred_at"],
        data=data,
    )
