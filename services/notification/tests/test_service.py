"""The service as it runs: Kafka in, e-mail out through SMTP, events out on Kafka, HTTP queries."""

from __future__ import annotations

import asyncio
import io
import uuid

import notification_samples as s
import pypdf
import pytest
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY

from icam_contracts import Actor, EventEnvelope
from icam_kernel.testing import read_topic

pytestmark = pytest.mark.integration


async def publish(bootstrap: str, topic: str, event, *, event_id: uuid.UUID | None = None) -> EventEnvelope:
    """Publish ``event`` the way the invitation service's outbox relay does."""
    envelope = EventEnvelope.wrap(
        event,
        event_id=event_id or uuid.uuid4(),
        stream_version=1,
        occurred_at=s.APPOINTMENT,
        recorded_at=s.APPOINTMENT,
        actor=Actor(id="coach-4711", role="coach", organisation="immigration_office"),
        correlation_id=str(event.household_id),
        causation_id=str(uuid.uuid4()),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, envelope.kafka_value(), key=envelope.kafka_key(), headers=envelope.kafka_headers()
        )
    finally:
        await producer.stop()
    return envelope


async def _skipped_as_duplicate(consumer: str) -> bool:
    count = REGISTRY.get_sample_value(
        "icam_handler_seconds_count", {"consumer": consumer, "outcome": "duplicate"}
    )
    return bool(count)


async def until(predicate, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.1)


async def test_an_invitation_on_kafka_reaches_the_person_by_email_in_their_language_and_is_published(
    notification_app_factory, smtp_server, sms_provider, kafka_bootstrap
):
    async with notification_app_factory(smtp_server, sms_provider) as service:
        invited = s.invitation_sent(
            s.person(language="de", postal_code="4700"), channels=("email", "postal_letter")
        )
        sent = await publish(kafka_bootstrap, service.settings.topics.invitation, invited)
        await publish(kafka_bootstrap, service.settings.topics.invitation, invited, event_id=sent.event_id)

        async def both_sent() -> bool:
            page = (await service.client.get("/notifications", headers=service.headers())).json()
            return page["total"] == 2 and all(n["status"] == "sent" for n in page["items"])

        await until(both_sent)
        (mail,) = await smtp_server.wait_for(1)
        assert mail["Content-Language"] == "de" and "Einladung" in str(mail["Subject"])

        published = await read_topic(kafka_bootstrap, service.settings.topics.notification, expected=2)
        assert {(m["value"]["event_type"], m["value"]["data"]["language"]) for m in published} == {
            ("NotificationSent", "de")
        }
        assert {m["value"]["data"]["channel"] for m in published} == {"email", "postal_letter"}
        assert all(m["value"]["causation_id"] == str(sent.event_id) for m in published)
        assert all(m["value"]["correlation_id"] == str(s.HOUSEHOLD) for m in published)

        # the redelivered event was consumed, and skipped as a duplicate: still one e-mail
        consumer = f"{service.settings.consumer_prefix}.invitation"
        await until(lambda: _skipped_as_duplicate(consumer))
        page = (await service.client.get("/notifications", headers=service.headers())).json()
        assert page["total"] == 2 and smtp_server.deliveries == 1


async def test_http_queries_respect_region_roles_and_serve_the_letter(
    notification_app_factory, smtp_server, sms_provider, kafka_bootstrap
):
    async with notification_app_factory(smtp_server, sms_provider) as service:
        await publish(kafka_bootstrap, service.settings.topics.invitation, s.invitation_sent(s.person()))
        client, coach = service.client, service.headers()

        async def letter_sent() -> bool:
            query = {"household_id": str(s.HOUSEHOLD), "status": "sent"}
            page = (await client.get("/notifications", params=query, headers=coach)).json()
            return any(n["channel"] == "postal_letter" for n in page["items"])

        await until(letter_sent)
        page = (await client.get("/notifications", params={"person_id": "8123456"}, headers=coach)).json()
        letter = next(n for n in page["items"] if n["channel"] == "postal_letter")

        detail = await client.get(f"/notifications/{letter['notification_id']}", headers=coach)
        assert detail.status_code == 200 and "Rue Haute 120" in detail.json()["address"]
        pdf = await client.get(f"/notifications/{letter['notification_id']}/pdf", headers=coach)
        assert pdf.headers["content-type"] == "application/pdf"
        assert "Invitation" in pypdf.PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text()

        elsewhere = service.headers(region="liege")
        assert (await client.get("/notifications", headers=elsewhere)).json()["total"] == 0
        assert (
            await client.get(f"/notifications/{letter['notification_id']}", headers=elsewhere)
        ).status_code == 403
        ops = service.headers(role="ops_viewer", region=None)
        assert (await client.get("/notifications", headers=ops)).status_code == 403
        stats = await client.get("/stats/delivery", headers=ops)
        assert stats.status_code == 200
        assert {
            "channel": "postal_letter",
            "language": "fr",
            "sent": 1,
            "failed": 0,
            "retried": 0,
            "pending": 0,
        } in (stats.json()["rows"])
        assert (await client.get("/notifications")).status_code == 401
        assert (await client.get(f"/notifications/{uuid.uuid4()}", headers=coach)).status_code == 404
        ready = await client.get("/health/ready")
        assert ready.status_code == 200
