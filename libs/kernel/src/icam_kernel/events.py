"""Events as the kernel sees them: what a command appends, and what the store hands back.

The envelope (`RecordedEvent.to_envelope`) is the JSON value of every Kafka message; its keys are
shared with `contracts/` (`EventEnvelope`), so change them only together.
"""

from __future__ import annotations

import functools
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from icam_kernel import codec

CONTENT_TYPE = "application/json"


@dataclass(frozen=True, slots=True)
class Actor:
    """Who caused an event: a coach, a partner user, or a system component."""

    id: str
    role: str
    organisation: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "organisation": self.organisation}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> Actor:
        return cls(id=value["id"], role=value["role"], organisation=value.get("organisation"))


class ContractModel(Protocol):
    """Duck type of a contracts model: its type and version, and a pydantic dump.

    Read-only properties, so that the contracts' `event_type: ClassVar[str]` and
    `event_version: ClassVar[int]` satisfy it (mypy refuses a class variable for a protocol's
    instance variable); a plain attribute or a property does too.
    """

    @property
    def event_type(self) -> str: ...

    @property
    def event_version(self) -> int: ...

    def model_dump(self, *, mode: str) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event about to be appended; the store gives it a stream version and a position."""

    event_type: str
    event_version: int
    data: dict[str, Any]
    actor: Actor
    correlation_id: str
    causation_id: str | None = None
    occurred_at: datetime | None = None  # None: the time the store records it
    event_id: uuid.UUID = field(default_factory=uuid.uuid4)

    @classmethod
    def from_model(
        cls,
        model: ContractModel,
        *,
        actor: Actor,
        correlation_id: str,
        causation_id: str | None = None,
        occurred_at: datetime | None = None,
        event_id: uuid.UUID | None = None,
    ) -> NewEvent:
        """Wrap a contracts model (anything with `event_type`, `event_version`, `model_dump`);
        `event_id` is random unless given (a reaction derives it from its cause to stay idempotent)."""
        return cls(
            event_type=model.event_type,
            event_version=model.event_version,
            data=model.model_dump(mode="json"),
            actor=actor,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=occurred_at,
            event_id=event_id if event_id is not None else uuid.uuid4(),
        )


@dataclass(frozen=True, slots=True)
class RecordedEvent:
    """An event as stored: immutable, with its place in its stream and in the store."""

    global_position: int
    stream_id: str
    stream_version: int
    event_id: uuid.UUID
    event_type: str
    event_version: int
    data: dict[str, Any]
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    correlation_id: str
    causation_id: str | None
    as_stored: tuple[int, dict[str, Any]] | None = None

    def to_envelope(self) -> dict[str, Any]:
        """The JSON object published on Kafka (DESIGN §3)."""
        return {
            "event_id": str(self.event_id),
            "event_type": self.event_type,
            "event_version": self.event_version,
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "actor": self.actor.to_dict(),
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "data": self.data,
        }

    def to_json(self) -> bytes:
        return codec.dumps_bytes(self.to_envelope())

    def headers(self) -> list[tuple[str, bytes]]:
        """Kafka headers: routing without parsing the value."""
        return [
            ("event_type", self.event_type.encode()),
            ("event_version", str(self.event_version).encode()),
            ("event_id", str(self.event_id).encode()),
            ("correlation_id", self.correlation_id.encode()),
            ("causation_id", (self.causation_id or "").encode()),
            ("content-type", CONTENT_TYPE.encode()),
        ]

    def with_payload(self, event_version: int, data: dict[str, Any]) -> RecordedEvent:
        return replace(self, event_version=event_version, data=data)

    def opened(self, data: dict[str, Any]) -> RecordedEvent:
        """This event with its personal data opened; `as_stored` keeps the sealed payload, for a
        reader that keeps a copy (it keeps the sealed one, never the opened)."""
        return replace(self, data=data, as_stored=(self.event_version, self.data))

    @property
    def stored_payload(self) -> tuple[int, dict[str, Any]]:
        """The version and payload as stored or published (sealed where personal)."""
        return self.as_stored or (self.event_version, self.data)

    @classmethod
    def from_envelope(cls, envelope: dict[str, Any], global_position: int = 0) -> RecordedEvent:
        """Parse a Kafka message value; the position is the publisher's, unknown to consumers."""
        return cls(
            global_position=global_position,
            stream_id=envelope["stream_id"],
            stream_version=int(envelope["stream_version"]),
            event_id=uuid.UUID(envelope["event_id"]),
            event_type=envelope["event_type"],
            event_version=int(envelope["event_version"]),
            data=envelope["data"],
            occurred_at=datetime.fromisoformat(envelope["occurred_at"]),
            recorded_at=datetime.fromisoformat(envelope["recorded_at"]),
            actor=Actor.from_dict(envelope["actor"]),
            correlation_id=envelope["correlation_id"],
            causation_id=envelope.get("causation_id"),
        )

    @classmethod
    def from_row(cls, row: Any) -> RecordedEvent:
        """Build from an `events` row (jsonb columns arrive as text: no codec is installed)."""
        return cls(
            global_position=row["global_position"],
            stream_id=row["stream_id"],
            stream_version=row["stream_version"],
            event_id=row["event_id"],
            event_type=row["event_type"],
            event_version=row["event_version"],
            data=codec.loads(row["data"]),
            occurred_at=row["occurred_at"],
            recorded_at=row["recorded_at"],
            actor=_actor(row["actor"]),
            correlation_id=row["correlation_id"],
            causation_id=row["causation_id"],
        )


@functools.lru_cache(maxsize=4096)
def _actor(stored: str) -> Actor:
    """An actor from its stored JSON: few actors write many events, and an `Actor` is immutable,
    so the same one is shared instead of parsed again for each event (a rebuild's reads)."""
    return Actor.from_dict(codec.loads(stored))
