"""The mailbox accepts exactly what the notification service's channels send, and the letters it
announces on its topic: e-mail over SMTP, SMS with their idempotency key, letters' PDFs."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI

from icam_contracts import Actor, EventEnvelope
from icam_contracts.events import NotificationSent
from icam_contracts.jsonschema_export import example_payload
from icam_contracts.topics import NOTIFICATION_EVENTS
from icam_notification.channels import HttpSmsSender, Outgoing, SmtpSender
from icam_notification.config import SmsSettings, SmtpSettings
from icam_platform.mailbox import MailboxSettings
from icam_platform.mailbox.app import create_app
from icam_platform.mailbox.letters import LetterCollector
from icam_platform.mailbox.store import MailStore

pytestmark = pytest.mark.integration


def settings_for(folder: Path, smtp_port: int) -> MailboxSettings:
    return MailboxSettings(
        folder=folder,
        home=folder,
        smtp_port=smtp_port,
        kafka_bootstrap=None,
        notification_url=None,
        topic_prefix="",
        cors_origins=(),
    )


@pytest.fixture
async def mailbox(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, int]]:
    from icam_platform.infra.process import free_port

    port = free_port()
    app = create_app(settings_for(tmp_path, port))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mailbox") as client:
            yield app, client, port


def outgoing(**overrides: Any) -> Outgoing:
    values: dict[str, Any] = {
        "notification_id": uuid.uuid4(),
        "address": "a.example@example.org",
        "language": "de",
        "subject": "Einladung zu einem Gespräch",
        "body": "Guten Tag,\n\nSie sind eingeladen.",
        "sms": "ICAM: Termin am Mittwoch, 10:00",
    }
    return Outgoing(**(values | overrides))


async def test_an_email_sent_by_the_notification_service_is_listed_with_subject_language_and_text(
    mailbox: tuple[FastAPI, httpx.AsyncClient, int],
) -> None:
    _, client, smtp_port = mailbox
    message = outgoing()
    sender = SmtpSender(SmtpSettings(port=smtp_port, timeout=5), reply_to="icamsupport@ibz.fgov.be")

    reference = await sender.send(message)

    listed = (await client.get("/api/messages", params={"kind": "email"})).json()
    assert listed["counts"]["email"] == 1
    summary = listed["messages"][0]
    assert (summary["to"], summary["subject"], summary["language"]) == (
        "a.example@example.org",
        "Einladung zu einem Gespräch",
        "de",
    )
    assert summary["notification_id"] == str(message.notification_id)
    detail = (await client.get(f"/api/messages/{summary['id']}")).json()
    assert detail["message_id"] == reference and "Sie sind eingeladen." in detail["body"]
    raw = await client.get(f"/api/messages/{summary['id']}/raw")
    assert raw.headers["content-type"] == "message/rfc822" and b"Einladung" in raw.content


async def test_an_sms_resent_with_the_same_idempotency_key_is_kept_once_under_the_same_id(
    mailbox: tuple[FastAPI, httpx.AsyncClient, int],
) -> None:
    app, client, _ = mailbox
    sender = HttpSmsSender(
        SmsSettings(url="http://mailbox/sms/messages"),
        client=httpx.AsyncClient(transport=httpx.ASGITransport(app)),
    )
    message = outgoing(address="0032 470 12 34 56")

    first, second = await sender.send(message), await sender.send(message)

    assert first == second
    listed = (await client.get("/api/messages", params={"kind": "sms"})).json()["messages"]
    assert [(m["to"], m["language"]) for m in listed] == [("+32470123456", "de")]
    assert (await client.get(f"/api/messages/{listed[0]['id']}")).json()["body"] == message.sms
    await sender.close()


async def test_an_sms_request_without_text_is_refused_as_a_provider_would(
    mailbox: tuple[FastAPI, httpx.AsyncClient, int],
) -> None:
    _, client, _ = mailbox
    response = await client.post(
        "/sms/messages", json={"to": "+32470123456"}, headers={"Idempotency-Key": "k"}
    )
    assert response.status_code == 422
    assert (await client.get("/api/messages/999")).status_code == 404


def notification_api(pdf: bytes, seen: list[str]) -> httpx.MockTransport:
    """The two routes of the notification service the collector reads."""

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.headers.get("authorization", ""))
        if request.url.path.endswith("/pdf"):
            return httpx.Response(200, content=pdf, headers={"content-type": "application/pdf"})
        body = {"address": "Rue Haute 120\n1000 Bruxelles", "subject": "Invitation", "body": "Madame,"}
        return httpx.Response(200, json=body | {"reference": "INV-7C9E6679"})

    return httpx.MockTransport(answer)


def sent(channel: str) -> tuple[bytes, list[tuple[str, bytes]]]:
    event = NotificationSent.model_validate(
        example_payload(NotificationSent) | {"notification_id": str(uuid.uuid4()), "channel": channel}
    )
    now = datetime.now(UTC)
    envelope = EventEnvelope.wrap(
        event,
        event_id=uuid.uuid4(),
        stream_version=2,
        occurred_at=now,
        recorded_at=now,
        actor=Actor(id="notification", role="system"),
        correlation_id=str(event.household_id),
        causation_id=str(event.caused_by_event_id),
    )
    headers = [(k, v.encode()) for k, v in envelope.header_values().items()]
    return envelope.kafka_value(), headers


async def test_each_letter_announced_on_the_topic_is_fetched_once_and_kept_with_its_pdf(
    kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    prefix = unique_name("mb") + "."
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(prefix + NOTIFICATION_EVENTS, 1, 1)])
    await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    letter, email = sent("postal_letter"), sent("email")
    try:
        for value, headers in (letter, email, letter):  # the letter twice: at-least-once delivery
            await producer.send_and_wait(prefix + NOTIFICATION_EVENTS, value, headers=headers)
    finally:
        await producer.stop()
    store, seen = MailStore(tmp_path), []
    collector = LetterCollector(
        store,
        kafka_bootstrap,
        "http://notification",
        lambda: "t0k3n",
        prefix,
        notification_api(b"%PDF-1", seen),
    )

    task = asyncio.create_task(collector.run())
    for _ in range(150):
        if store.counts()["letter"]:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(1)  # the repeated record has arrived by now; it must add nothing
    task.cancel()

    [kept] = store.list()
    assert (kept["kind"], kept["to"], kept["language"]) == ("letter", "Rue Haute 120, 1000 Bruxelles", "fr")
    assert kept["notification_id"] == json.loads(letter[0])["data"]["notification_id"]
    assert store.attachment(kept["id"], 0).content == b"%PDF-1"  # type: ignore[union-attr]
    assert set(seen) == {"Bearer t0k3n"} and len(seen) == 2


async def test_the_platform_starts_the_mailbox_as_a_process_that_icam_mail_reads(
    tmp_path: Path, kafka_bootstrap: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    from icam_platform import mailbox, platform
    from icam_platform.infra.manager import Endpoints
    from icam_platform.infra.process import port_is_free
    from icam_platform.mailbox import cli as mail
    from icam_platform.settings import InfraSettings

    offset = next(o for o in range(23000, 24000, 7) if port_is_free(1025 + o) and port_is_free(8190 + o))
    process = platform.Service("mailbox", mailbox.HTTP_PORT + offset, mailbox.APP)
    settings = InfraSettings.from_env(tmp_path)
    endpoints = Endpoints(kafka_bootstrap, "postgresql://unused", True, True)
    env = mailbox.environment(offset)
    assert platform.start_service(process, endpoints, settings, (process,), env) == "started"
    try:
        assert platform.wait_healthy([process], settings, timeout=30)["mailbox"].startswith("healthy")
        smtp = SmtpSettings(host=env["SMTP_HOST"], port=int(env["SMTP_PORT"]), timeout=5)
        await SmtpSender(smtp, reply_to="icamsupport@ibz.fgov.be").send(outgoing(language="nl"))
    finally:
        platform.stop_service(process, settings)

    assert mail.list_messages(argparse.Namespace(home=str(tmp_path), kind="email", limit=5)) == 0
    assert "1 email, 0 sms, 0 letter kept" in capsys.readouterr().out
    log = (settings.logs_dir / "mailbox.log").read_text()
    assert '"event": "mailbox_email_stored"' in log and "a.example@example.org" not in log  # JSON, no address
