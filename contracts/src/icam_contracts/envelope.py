"""The envelope every event travels in, and the Kafka headers that repeat its routing fields.

A Kafka message is one event: key = the aggregate id (``Event.key()``), value = the JSON of an
``EventEnvelope``, headers = ``kafka_headers(envelope)``. The headers let a subscriber route or
skip a message without parsing its value.
"""

from __future__ import annotations

from typing import Any, Final
from uuid import UUID

from pydantic import AwareDatetime, Field

from icam_contracts.base import Contract, Event
from icam_contracts.enums import ActorRole

HEADER_EVENT_TYPE: Final = "event_type"
HEADER_EVENT_VERSION: Final = "event_version"
HEADER_EVENT_ID: Final = "event_id"
HEADER_CORRELATION_ID: Final = "correlation_id"
HEADER_CAUSATION_ID: Final = "causation_id"
HEADER_CONTENT_TYPE: Final = "content-type"
CONTENT_TYPE_JSON: Final = "application/json"
HEADERS: Final = (
    HEADER_EVENT_TYPE,
    HEADER_EVENT_VERSION,
    HEADER_EVENT_ID,
    HEADER_CORRELATION_ID,
    HEADER_CAUSATION_ID,
    HEADER_CONTENT_TYPE,
)

# Added by a subscriber when it moves a message it cannot handle to ``<topic>.dlq``.
HEADER_DLQ_ERROR: Final = "dlq_error"
HEADER_DLQ_CONSUMER_GROUP: Final = "dlq_consumer_group"
HEADER_DLQ_ORIGINAL_TOPIC: Final = "dlq_original_topic"
HEADER_DLQ_ORIGINAL_PARTITION: Final = "dlq_original_partition"
HEADER_DLQ_ORIGINAL_OFFSET: Final = "dlq_original_offset"
HEADER_DLQ_FAILED_AT: Final = "dlq_failed_at"
DLQ_HEADERS: Final = (
    HEADER_DLQ_ERROR,
    HEADER_DLQ_CONSUMER_GROUP,
    HEADER_DLQ_ORIGINAL_TOPIC,
    HEADER_DLQ_ORIGINAL_PARTITION,
    HEADER_DLQ_ORIGINAL_OFFSET,
    HEADER_DLQ_FAILED_AT,
)

ENVELOPE_VERSION: Final = 1

ACTOR_EXAMPLE: Final[dict[str, Any]] = {
    "id": "coach-4711",
    "role": "coach",
    "organisation": "immigration_office",
}


class Actor(Contract):
    """Who caused the event: a coach, a team lead, a return partner's user, or the system."""

    id: str = Field(
        min_length=1,
        max_length=200,
        description="Subject of the actor's token, or the name of the system component.",
        examples=["coach-4711"],
    )
    role: ActorRole = Field(description="Role the actor acted in.", examples=["coach"])
    organisation: str | None = Field(
        default=None,
        description="Organisation of the actor: the Immigration Office or a return partner code.",
        examples=["immigration_office"],
    )


class EventEnvelope(Contract):
    """One event as stored and published: routing, timing, causality, and the event's data."""

    event_id: UUID = Field(
        description="Unique id of this event; subscribers deduplicate on it.",
        examples=["0d1f6a52-3c8e-4a7b-9f2e-6e3c2f1b9a01"],
    )
    event_type: str = Field(min_length=1, description="Name of the event type.", examples=["InvitationSent"])
    event_version: int = Field(ge=1, description="Version of the event type's data.", examples=[1])
    stream_id: str = Field(
        min_length=1,
        description="Id of the aggregate stream the event belongs to; equal to the Kafka key.",
        examples=["7c9e6679-7425-40de-944b-e07fc1f90ae7"],
    )
    stream_version: int = Field(
        ge=1, description="Position of the event in its stream, from 1.", examples=[1]
    )
    occurred_at: AwareDatetime = Field(
        description=("When it happened in the world (an interview recorded the next day keeps its time)."),
        examples=["2026-03-04T10:00:00+01:00"],
    )
    recorded_at: AwareDatetime = Field(
        description="When the event store took the event.",
        examples=["2026-03-04T10:00:02+01:00"],
    )
    actor: Actor = Field(description="Who caused the event.", examples=[ACTOR_EXAMPLE])
    correlation_id: str = Field(
        min_length=1,
        description="Id of the household's journey, the same across all services.",
        examples=["5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10"],
    )
    causation_id: str = Field(
        min_length=1,
        description="Id of the command or event that caused this event.",
        examples=["a3f1c2d4-5b6e-4f70-8a91-b2c3d4e5f607"],
    )
    data: dict[str, Any] = Field(
        description="The event's data: the JSON of the contract model for this type and version.",
        examples=[{"household_id": "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10"}],
    )

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        event_id: UUID,
        stream_version: int,
        occurred_at: AwareDatetime,
        recorded_at: AwareDatetime,
        actor: Actor,
        correlation_id: str,
        causation_id: str,
    ) -> EventEnvelope:
        """Put ``event`` in an envelope; the stream id is the event's aggregate id (its key)."""
        return cls(
            event_id=event_id,
            event_type=event.event_type,
            event_version=event.event_version,
            stream_id=event.key(),
            stream_version=stream_version,
            occurred_at=occurred_at,
            recorded_at=recorded_at,
            actor=actor,
            correlation_id=correlation_id,
            causation_id=causation_id,
            data=event.model_dump(mode="json"),
        )

    def kafka_key(self) -> bytes:
        """The Kafka key: the aggregate id, UTF-8."""
        return self.stream_id.encode()

    def kafka_value(self) -> bytes:
        """The Kafka value: this envelope as JSON."""
        return self.model_dump_json().encode()

    def kafka_headers(self) -> list[tuple[str, bytes]]:
        """The Kafka headers, as (name, UTF-8 value) pairs."""
        return [(name, value.encode()) for name, value in self.header_values().items()]

    def header_values(self) -> dict[str, str]:
        """The Kafka headers as strings, e.g. for FastStream's ``headers=``."""
        return {
            HEADER_EVENT_TYPE: self.event_type,
            HEADER_EVENT_VERSION: str(self.event_version),
            HEADER_EVENT_ID: str(self.event_id),
            HEADER_CORRELATION_ID: self.correlation_id,
            HEADER_CAUSATION_ID: self.causation_id,
            HEADER_CONTENT_TYPE: CONTENT_TYPE_JSON,
        }
