"""Facts from other services, as the case receives them: contract models in envelopes."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from icam_contracts.base import Event
from icam_contracts.enums import Channel, EntryChannel, Language, RecipientKind
from icam_contracts.events import (
    InvitationNoShowRecorded,
    InvitationSent,
    NotificationFailed,
    ReferralWithdrawn,
    ReferredToReturnPartner,
    VoluntaryReturnCompleted,
    WalkInRegistered,
)
from icam_contracts.personal_data import PersonalData
from icam_kernel.events import Actor, RecordedEvent
from icam_kernel.inbox import IdempotentConsumer

ADULT = "8123456"
CHILD = "8123457"
APPOINTMENT = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)


def members() -> tuple[PersonalData, ...]:
    return (
        PersonalData(person_id=ADULT, given_name="Amina", is_minor=False),
        PersonalData(person_id=CHILD, given_name="Yasmine", is_minor=True),
    )


def invitation_sent(
    household: uuid.UUID, *, attempt: int = 1, coach: str | None = "coach-4711"
) -> InvitationSent:
    return InvitationSent(
        household_id=household,
        invitation_id=uuid.uuid4(),
        region="brussels",
        office="brussels",
        coach_id=coach,
        entry_channel=EntryChannel.INVITATION_LETTER,
        language=Language.FR,
        appointment_at=APPOINTMENT + timedelta(days=7 * (attempt - 1)),
        channels=(Channel.POSTAL_LETTER,),
        members=members(),
        adults=1,
        minors=1,
        attempt=attempt,
    )


def walk_in(household: uuid.UUID) -> WalkInRegistered:
    return WalkInRegistered(
        household_id=household,
        visit_id=uuid.uuid4(),
        desk="liege_fragnee",
        region="liege",
        coach_id="coach-liege",
        language=Language.FR,
        members=members()[:1],
        adults=1,
        minors=0,
    )


def no_show(household: uuid.UUID, invitation_id: uuid.UUID) -> InvitationNoShowRecorded:
    return InvitationNoShowRecorded(
        household_id=household,
        invitation_id=invitation_id,
        appointment_at=APPOINTMENT,
        region="brussels",
        attempt=1,
    )


def referred(household: uuid.UUID, case_id: uuid.UUID, decision_id: uuid.UUID) -> ReferredToReturnPartner:
    return ReferredToReturnPartner(
        household_id=household,
        referral_id=uuid.uuid4(),
        case_id=case_id,
        decision_id=decision_id,
        partner="fedasil",
        consent_recorded_at=APPOINTMENT,
        language=Language.FR,
        members=members(),
        acknowledge_by=APPOINTMENT + timedelta(days=7),
    )


def withdrawn(household: uuid.UUID, case_id: uuid.UUID, referral_id: uuid.UUID) -> ReferralWithdrawn:
    return ReferralWithdrawn(
        household_id=household,
        referral_id=referral_id,
        case_id=case_id,
        partner="fedasil",
        reason="person_changed_mind",
    )


def returned(household: uuid.UUID, case_id: uuid.UUID, referral_id: uuid.UUID) -> VoluntaryReturnCompleted:
    return VoluntaryReturnCompleted(
        household_id=household,
        referral_id=referral_id,
        case_id=case_id,
        partner="fedasil",
        departed_on=date(2026, 4, 20),
        destination_country="MA",
        person_ids=(ADULT, CHILD),
        reintegration_support=True,
    )


def notification_failed(household: uuid.UUID, case_id: uuid.UUID | None) -> NotificationFailed:
    return NotificationFailed(
        household_id=household,
        notification_id=uuid.uuid4(),
        recipient_kind=RecipientKind.PERSON,
        recipient_id=ADULT,
        channel=Channel.EMAIL,
        language=Language.FR,
        template="invitation_letter",
        caused_by_event_id=uuid.uuid4(),
        case_id=case_id,
        error="mailbox unavailable (SMTP 550)",
        attempt=3,
        will_retry=False,
    )


def recorded(
    event: Event, *, occurred_at: datetime | None = None, event_id: uuid.UUID | None = None
) -> RecordedEvent:
    """The event as the case's inbox consumer gets it from Kafka."""
    at = occurred_at or datetime.now(UTC)
    return RecordedEvent(
        global_position=0,
        stream_id=event.key(),
        stream_version=1,
        event_id=event_id or uuid.uuid4(),
        event_type=event.event_type,
        event_version=event.event_version,
        data=event.model_dump(mode="json"),
        occurred_at=at,
        recorded_at=at,
        actor=Actor(id="icam-invitation", role="system"),
        correlation_id=str(event.household_id),
        causation_id=str(uuid.uuid4()),
    )


async def deliver(case_app: Any, event: Event | RecordedEvent, consumer: str = "case-test") -> RecordedEvent:
    """Hand the event to the case's reactions through the kernel's inbox, as a subscriber would."""
    rec = event if isinstance(event, RecordedEvent) else recorded(event)
    state = case_app.app.state
    await IdempotentConsumer(state.application.pool, consumer, state.reactions).handle_once(rec)
    return rec


async def publish(bootstrap: str, topic: str, events: list[Event]) -> list[RecordedEvent]:
    """Publish envelopes on a Kafka topic, keyed by aggregate id, as the other services' relays do."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    sent = []
    try:
        for event in events:
            rec = recorded(event)
            await producer.send_and_wait(
                topic, rec.to_json(), key=rec.stream_id.encode(), headers=rec.headers()
            )
            sent.append(rec)
    finally:
        await producer.stop()
    return sent


def data_of(message: dict[str, Any]) -> dict[str, Any]:
    value = message["value"]
    return value if isinstance(value, dict) else json.loads(value)
