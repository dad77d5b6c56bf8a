"""Fixtures: real protocol peers on loopback (an SMTP server, an SMS provider over HTTP) and a
started notification service on real PostgreSQL and Kafka."""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import sys
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiosmtpd.controller import Controller
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

sys.path.insert(0, str(Path(__file__).parent))  # notification_samples beside these tests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class SmtpCapture:
    """An SMTP server that keeps what it accepted, one message per Message-ID (as a provider that
    deduplicates would); ``deliveries`` counts every DATA it accepted, duplicates included."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: dict[str, EmailMessage] = field(default_factory=dict)
    deliveries: int = 0
    refuse: dict[str, str] = field(default_factory=dict)  # address → SMTP reply to RCPT
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.refuse.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.lock:
            self.deliveries += 1
            self.messages.setdefault(str(message["Message-ID"]), message)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages.values() if m["To"] == address]

    async def wait_for(self, count: int, timeout: float = 15.0) -> list[EmailMessage]:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(self.messages) < count and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        return list(self.messages.values())


@pytest.fixture
def smtp_server() -> Iterator[SmtpCapture]:
    capture = SmtpCapture(port=free_port())
    controller = Controller(capture, hostname=capture.host, port=capture.port)
    controller.start()
    try:
        yield capture
    finally:
        controller.stop()


@dataclass
class SmsProvider:
    """A stand-in SMS provider: deduplicates on Idempotency-Key like a real one, and can be told to
    fail the next requests (``fail_next``) or refuse a number (``refuse``)."""

    url: str = ""
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0
    fail_next: list[int] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)

    def app(self) -> FastAPI:
        api = FastAPI()

        @api.post("/messages")
        async def send(request: Request) -> JSONResponse:
            self.requests += 1
            if self.fail_next:
                return JSONResponse({"error": "try later"}, status_code=self.fail_next.pop(0))
            body = await request.json()
            if body["to"] in self.refuse:
                return JSONResponse({"error": "invalid number"}, status_code=400)
            key = request.headers["Idempotency-Key"]
            self.messages.setdefault(key, body)
            return JSONResponse({"id": f"sms-{key[:8]}"}, status_code=201)

        return api


@pytest.fixture
async def sms_provider() -> AsyncIterator[SmsProvider]:
    provider = SmsProvider()
    port = free_port()
    provider.url = f"http://127.0.0.1:{port}/messages"
    server = uvicorn.Server(uvicorn.Config(provider.app(), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield provider
    finally:
        server.should_exit = True
        await task


async def create_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


@dataclass
class NotificationApp:
    app: FastAPI
    client: httpx.AsyncClient
    issuer: Any
    settings: Any

    @property
    def runtime(self) -> Any:
        return self.app.state.runtime

    def headers(self, role: str = "coach", region: str | None = "brussels", organisation: str | None = None):
        from icam_auth import Principal, Role

        principal = Principal(subject=f"{role}-1", role=Role(role), region=region, organisation=organisation)
        return {"Authorization": f"Bearer {self.issuer.mint(principal)}"}


@pytest.fixture
def notification_app_factory(
    postgres_url: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Any]:
    """`async with notification_app_factory(smtp, sms) as app:` — a started service."""
    from datetime import timedelta

    from icam_auth import AuthSettings
    from icam_auth.issuer import LocalIssuer
    from icam_kernel.service import ServiceSettings
    from icam_notification.app import create_app
    from icam_notification.config import Settings, SmsSettings, SmtpSettings, Topics
    from icam_notification.domain import RetryPolicy
    from icam_platform.infra import postgres

    issuer = LocalIssuer(tmp_path_factory.mktemp("issuer"))
    jwks = issuer.write_jwks()

    @asynccontextmanager
    async def start(smtp: SmtpCapture, sms: SmsProvider, **options: Any) -> AsyncIterator[NotificationApp]:
        tag = uuid.uuid4().hex[:8]
        topics = Topics.prefixed(f"notification-test-{tag}.")
        await create_topics(
            kafka_bootstrap, [topics.invitation, topics.case, topics.referral, topics.notification]
        )
        name = f"notification_test_{tag}"
        url = await postgres.ensure_database(postgres_url, name)
        settings = Settings(
            service=ServiceSettings(
                service_name="notification", database_url=url, kafka_bootstrap=kafka_bootstrap
            ),
            topics=topics,
            smtp=SmtpSettings(host=smtp.host, port=smtp.port),
            sms=SmsSettings(url=sms.url),
            retry=options.pop("retry", RetryPolicy(max_attempts=3, first_delay=timedelta(milliseconds=50))),
            poll_interval=0.1,
            consumer_prefix=f"notification-test-{tag}",
            **options,
        )
        app = create_app(settings, AuthSettings(issuer="icam-local", audience="icam", jwks=str(jwks)))
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://notification") as client:
                    yield NotificationApp(app, client, issuer, settings)
        finally:
            await postgres.drop_database(postgres_url, name)

    return start
