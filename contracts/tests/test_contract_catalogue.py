"""The catalogue: every event is a complete, frozen, round-tripping contract."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest
from pydantic import BaseModel, ValidationError

from icam_contracts import (
    TOLERANT,
    Actor,
    EventEnvelope,
    event_class,
    latest,
    parse,
    parse_envelope,
    topic_of,
)
from icam_contracts.base import Event
from icam_contracts.envelope import HEADERS
from icam_contracts.events import (
    Attendee,
    DecisionProvenance,
    InvitationCancelled,
    OutcomeDecided,
    TrajectoryClosed,
)
from icam_contracts.jsonschema_export import example_envelope, example_payload
from icam_contracts.personal_data import ContactDetails, PersonalData, PostalAddress
from icam_contracts.registry import EVENT_CLASSES, UnknownEvent, event_types
from icam_contracts.topics import TOPICS_BY_NAME

pytestmark = pytest.mark.unit

REQUIRED_CATALOGUE = {
    "InvitationSent", "InvitationRescheduled", "InvitationCancelled", "InvitationNoShowRecorded",
    "InvitationReminderDue", "InvitationResponseRecorded", "InvitationHonoured",
    "AppointmentRequested", "AppointmentRequestClosed", "WalkInRegistered", "CaseOpened",
    "CoachAssigned", "CaseTransferred", "InterviewHeld", "DossierElementRequested",
    "DossierElementReceived", "VulnerabilityFlagged", "OutcomeDecided", "TrajectorySuspended",
    "TrajectoryResumed", "TrajectoryClosed", "ContactLost", "ReferredToReturnPartner",
    "ReferralAcknowledged", "ReferralRejected", "ReferralWithdrawn", "ReferralOverdue",
    "ReferralNotMade", "VoluntaryReturnCompleted", "NotificationSent", "NotificationFailed",
}  # fmt: skip
PARTS: list[type[BaseModel]] = [
    EventEnvelope, Actor, PersonalData, ContactDetails, PostalAddress, Attendee, DecisionProvenance
]  # fmt: skip
EVENTS = pytest.mark.parametrize("event", EVENT_CLASSES, ids=lambda cls: cls.schema_name())
NOW = datetime(2026, 3, 4, 9, 0, tzinfo=UTC)


def test_the_catalogue_holds_every_event_the_platform_needs() -> None:
    assert set(event_types()) >= REQUIRED_CATALOGUE


@EVENTS
def test_every_event_round_trips_from_model_to_json_and_back(event: type[Event]) -> None:
    model = event.model_validate(example_payload(event))

    again = event.model_validate_json(model.model_dump_json())

    assert again == model


@EVENTS
def test_every_event_says_in_the_domains_words_what_happened(event: type[Event]) -> None:
    assert event.__doc__ and len(event.__doc__.split()) >= 5
    assert event.topic in TOPICS_BY_NAME
    assert event.key_field in event.model_fields
    assert "household_id" in event.model_fields


@pytest.mark.parametrize("model", [*EVENT_CLASSES, *PARTS], ids=lambda cls: cls.__name__)
def test_every_field_has_a_description_and_an_example(model: type[BaseModel]) -> None:
    for name, field in model.model_fields.items():
        assert field.description, f"{model.__name__}.{name} has no description"
        assert field.examples, f"{model.__name__}.{name} has no example"


def test_events_are_frozen() -> None:
    event = InvitationCancelled.model_validate(example_payload(InvitationCancelled))

    with pytest.raises(ValidationError):
        event.reason = "changed"  # type: ignore[misc]


def test_a_producer_cannot_publish_an_unknown_field() -> None:
    with pytest.raises(ValidationError, match="extra"):
        InvitationCancelled.model_validate(example_payload(InvitationCancelled) | {"typo": 1})


def test_a_subscriber_ignores_fields_added_by_a_newer_producer_at_any_depth() -> None:
    payload = example_payload(OutcomeDecided)
    payload["added_later"] = "x"
    payload["provenance"] = payload["provenance"] | {"approved_by": "team-lead-1"}

    event = parse("OutcomeDecided", 1, payload)

    assert isinstance(event, OutcomeDecided)
    assert event.provenance.decided_by == "coach-4711"


def test_closing_for_another_reason_requires_saying_which() -> None:
    payload = example_payload(TrajectoryClosed) | {"reason": "other", "reason_text": None}

    with pytest.raises(ValidationError, match="reason_text"):
        TrajectoryClosed.model_validate(payload)


def test_a_revised_outcome_names_why_it_was_revised() -> None:
    payload = example_payload(OutcomeDecided) | {"revision_reason": None}

    with pytest.raises(ValidationError, match="revision_reason"):
        OutcomeDecided.model_validate(payload)


def test_the_registry_finds_classes_topics_and_latest_versions() -> None:
    assert event_class("InterviewHeld", 1).event_version == 1
    assert latest("InterviewHeld").event_version == 2
    assert topic_of("ReferralNotMade") == "icam.referral.events"
    assert topic_of("InvitationSent") == "icam.invitation.events"
    with pytest.raises(UnknownEvent):
        latest("SomethingElse")
    with pytest.raises(UnknownEvent):
        parse("InvitationSent", 7, {})


def test_an_envelope_takes_its_stream_id_key_and_headers_from_the_event() -> None:
    event = InvitationCancelled.model_validate(example_payload(InvitationCancelled))
    event_id = UUID("0d1f6a52-3c8e-4a7b-9f2e-6e3c2f1b9a01")

    envelope = EventEnvelope.wrap(
        event,
        event_id=event_id,
        stream_version=2,
        occurred_at=NOW,
        recorded_at=NOW,
        actor=Actor.model_validate({"id": "coach-4711", "role": "coach"}),
        correlation_id=str(event.household_id),
        causation_id="cmd-1",
    )

    assert envelope.kafka_key() == str(event.invitation_id).encode()
    assert dict(envelope.kafka_headers()) == {
        "event_type": b"InvitationCancelled",
        "event_version": b"1",
        "event_id": str(event_id).encode(),
        "correlation_id": str(event.household_id).encode(),
        "causation_id": b"cmd-1",
        "content-type": b"application/json",
    }
    assert set(envelope.header_values()) == set(HEADERS)
    received = EventEnvelope.model_validate_json(envelope.kafka_value(), context=TOLERANT)
    assert parse_envelope(received) == event


def test_envelope_times_must_carry_a_time_zone() -> None:
    envelope = example_envelope(InvitationCancelled) | {"occurred_at": "2026-03-04T10:00:00"}

    with pytest.raises(ValidationError, match="timezone"):
        EventEnvelope.model_validate(envelope)
