"""Public event contracts of the ICAM platform.

Publish::

    event = InvitationSent(household_id=..., invitation_id=..., ...)
    envelope = EventEnvelope.wrap(event, event_id=..., stream_version=1, occurred_at=...,
                                  recorded_at=..., actor=Actor(id="coach-4711", role="coach"),
                                  correlation_id=str(event.household_id), causation_id=...)
    await broker.publish(envelope.kafka_value(), topic=event.topic, key=envelope.kafka_key(),
                         headers=envelope.header_values())

Consume::

    envelope = EventEnvelope.model_validate_json(raw, context=TOLERANT)
    event = parse_envelope(envelope)       # upcast to the latest version, then validated
"""

from icam_contracts.base import TOLERANT, Contract, Event
from icam_contracts.envelope import (
    CONTENT_TYPE_JSON,
    HEADER_CAUSATION_ID,
    HEADER_CONTENT_TYPE,
    HEADER_CORRELATION_ID,
    HEADER_EVENT_ID,
    HEADER_EVENT_TYPE,
    HEADER_EVENT_VERSION,
    HEADERS,
    Actor,
    EventEnvelope,
)
from icam_contracts.personal_data import ContactDetails, PersonalData, PostalAddress
from icam_contracts.registry import (
    EVENT_CLASSES,
    UnknownEvent,
    event_class,
    event_types,
    events_on,
    latest,
    parse,
    parse_envelope,
    topic_of,
)
from icam_contracts.topics import (
    CASE_EVENTS,
    INVITATION_EVENTS,
    NOTIFICATION_EVENTS,
    REFERRAL_EVENTS,
    TOPICS,
    Topic,
    consumer_group,
    dlq_topic,
)
from icam_contracts.upcasting import upcast

__all__ = [
    "CASE_EVENTS",
    "CONTENT_TYPE_JSON",
    "EVENT_CLASSES",
    "HEADERS",
    "HEADER_CAUSATION_ID",
    "HEADER_CONTENT_TYPE",
    "HEADER_CORRELATION_ID",
    "HEADER_EVENT_ID",
    "HEADER_EVENT_TYPE",
    "HEADER_EVENT_VERSION",
    "INVITATION_EVENTS",
    "NOTIFICATION_EVENTS",
    "REFERRAL_EVENTS",
    "TOLERANT",
    "TOPICS",
    "Actor",
    "ContactDetails",
    "Contract",
    "Event",
    "EventEnvelope",
    "PersonalData",
    "PostalAddress",
    "Topic",
    "UnknownEvent",
    "consumer_group",
    "dlq_topic",
    "event_class",
    "event_types",
    "events_on",
    "latest",
    "parse",
    "parse_envelope",
    "topic_of",
    "upcast",
]
