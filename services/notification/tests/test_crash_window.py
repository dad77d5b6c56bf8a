"""The e-mail window, with the real fault: the notification service is killed with SIGKILL after the
SMTP server took the e-mail and before NotificationSent was recorded; a new process takes over.

Plain SMTP cannot make this exactly once (a server that accepted a message keeps it; a client that
died before the "250" cannot know): the resend is a second copy, and the test says so. Where the
mail server answers a delivery check (`SMTP_DELIVERY_CHECK_URL`), the new process asks first and
records the e-mail as sent without a second copy. Both against an SMTP server that counts every
delivery and deduplicates nothing.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import notification_samples as s
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiosmtpd.controller import Controller

from icam_contracts import Actor, EventEnvelope
from icam_contracts.topics import PRIVACY_EVENTS
from icam_notification.config import Topics
from icam_platform.infra.process import free_port

pytestmark = pytest.mark.integration


class CountingSmtp:
    """Keeps every e-mail it accepts, duplicates included; `kill` runs once the first one is in."""

    def __init__(self) -> None:
        self.deliveries: list[EmailMessage] = []
        self.kill: Any = None
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.deliveries.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
            first = len(self.deliveries) == 1
        if first and self.kill:
            self.kill()  # the service dies holding an e-mail the server has accepted
        return "250 Message accepted for delivery"

    def holds(self, message_id: str) -> bool:
        with self.lock:
            return any(str(m["Message-ID"]) == message_id for m in self.deliveries)


def delivery_check(smtp: CountingSmtp) -> ThreadingHTTPServer:
    """The mail server's delivery check: `GET /delivered?message_id=...` → {"delivered": bool}."""

    class Check(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            wanted = parse_qs(urlsplit(self.path).query).get("message_id", [""])[0]
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(json.dumps({"delivered": smtp.holds(wanted)}).encode())

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Check)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def smtp() -> Iterator[tuple[CountingSmtp, int]]:
    capture, port = CountingSmtp(), free_port()
    controller = Controller(capture, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield capture, port
    finally:
        controller.stop()


class ServiceProcess:
    """The notification service as its own process (uvicorn), on the test's database and topics."""

    def __init__(self, env: dict[str, str]) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "icam_notification.app:create_app",
             "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
            env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip

    async def ready(self, timeout: float = 180) -> None:  # a cold start on a busy machine is slow
        async with httpx.AsyncClient() as client, asyncio.timeout(timeout):
            while True:
                assert self.process.poll() is None, "the service process ended"
                try:
                    if (await client.get(f"http://127.0.0.1:{self.port}/health/ready")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.2)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
        self.process.wait(30)


async def create_topics(bootstrap: str, names: list[str]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, 1, 1) for name in names])
    finally:
        await admin.close()


async def publish(bootstrap: str, topic: str, event: Any) -> None:
    """`event` on `topic`, as the invitation service's relay would publish it."""
    envelope = EventEnvelope.wrap(
        event, event_id=uuid.uuid4(), stream_version=1, occurred_at=s.APPOINTMENT,
        recorded_at=s.APPOINTMENT, actor=Actor(id="coach-4711", role="coach"),
        correlation_id=str(event.household_id), causation_id=str(uuid.uuid4()),
    )  # fmt: skip
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, envelope.kafka_value(), key=envelope.kafka_key(), headers=envelope.kafka_headers()
        )
    finally:
        await producer.stop()


async def email_row(database_url: str) -> asyncpg.Record | None:
    conn = await asyncpg.connect(database_url)
    try:
        return await conn.fetchrow("select status, attempts from notifications where channel = 'email'")
    finally:
        await conn.close()


@pytest.mark.parametrize("checked", [False, True], ids=["plain-smtp", "smtp-with-delivery-check"])
async def test_a_service_killed_between_sending_and_recording_an_email(
    smtp: tuple[CountingSmtp, int], database_url: str, kafka_bootstrap: str, unique_name: Any, checked: bool
) -> None:
    # given a notification service on its own topics and database, and an SMTP server that takes
    # the first e-mail and then sees the service die before it could record it
    capture, smtp_port = smtp
    prefix = unique_name("crash") + "."
    topics = Topics.prefixed(prefix)
    await create_topics(  # the privacy topic too: the service follows erasures on it
        kafka_bootstrap,
        [topics.invitation, topics.case, topics.referral, topics.notification, prefix + PRIVACY_EVENTS],
    )
    check = delivery_check(capture) if checked else None
    env = {
        "DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
        "ICAM_TOPIC_PREFIX": prefix,
        "NOTIFICATION_CONSUMER_PREFIX": prefix + "notification",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMS_PROVIDER_URL": f"http://127.0.0.1:{free_port()}/messages",
        "NOTIFICATION_LEASE_SECONDS": "1",
        "NOTIFICATION_POLL_SECONDS": "0.1",
        "SMTP_DELIVERY_CHECK_URL": f"http://127.0.0.1:{check.server_port}/delivered" if check else "",
        "LOG_FORMAT": "json",
    }
    first = ServiceProcess(env)
    second: ServiceProcess | None = None
    try:
        await first.ready()
        capture.kill = first.kill

        # when an invitation is to be e-mailed (no postal address: no letter), and after the crash
        # a new process of the service takes over
        invited = s.invitation_sent(s.person(postal_code=None), channels=("email",))
        await publish(kafka_bootstrap, topics.invitation, invited)
        async with asyncio.timeout(60):
            while first.process.poll() is None:
                await asyncio.sleep(0.05)
        second = ServiceProcess(env)
        await second.ready()
        async with asyncio.timeout(60):
            while (row := await email_row(database_url)) is None or row["status"] != "sent":
                await asyncio.sleep(0.1)
    finally:
        for process in (first, second):
            if process is not None:
                process.stop()
        if check:
            check.shutdown()

    # then the e-mail is recorded as sent after a second attempt, and the person got ...
    assert row["attempts"] == 2
    message_ids = {str(m["Message-ID"]) for m in capture.deliveries}
    assert len(message_ids) == 1  # every copy is the same message, same Message-ID
    if checked:
        assert len(capture.deliveries) == 1  # ... one e-mail: the attempt was confirmed, not repeated
    else:
        assert len(capture.deliveries) == 2  # ... two copies: plain SMTP cannot tell (README)
