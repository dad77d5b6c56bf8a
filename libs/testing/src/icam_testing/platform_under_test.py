"""The whole platform as real processes for end-to-end tests: every service and the gateway as
their own uvicorn processes, on the test session's real Kafka and PostgreSQL, with fresh
databases and topics of their own, a local SMTP server capturing e-mail and a local HTTP server
standing in for the SMS provider; given a `TraceReceiver`, every process exports its spans to it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

from icam_auth import Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_platform import mailbox, platform, topics
from icam_platform.infra import postgres
from icam_platform.infra.manager import Endpoints
from icam_platform.infra.process import free_port
from icam_platform.settings import InfraSettings
from icam_testing.traces import TraceReceiver

PORT_OFFSET = 300  # 8400..8404: beside a developer's running platform


def _shifted(port_offset: int) -> int:
    """`ICAM_TEST_PORT_SHIFT` moves every platform under test, so that two test sessions
    (two checkouts, helpers) can run end-to-end suites side by side."""
    return port_offset + int(os.environ.get("ICAM_TEST_PORT_SHIFT", "0"))


class Mailbox:
    """aiosmtpd handler keeping every message that arrives."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.messages.append(message_from_bytes(envelope.original_content or envelope.content))
        return "250 OK"

    def snapshot(self) -> list[Message]:
        with self._lock:
            return list(self.messages)


class SmsProvider(BaseHTTPRequestHandler):
    """A minimal SMS provider: accepts JSON posts, remembers them, dedupes on Idempotency-Key; also
    the mail server's delivery check (`GET /delivered?message_id=`) over the SMTP server's `mailbox`."""

    received: list[dict[str, Any]] = []
    keys: set[str] = set()
    mailbox: Mailbox | None = None

    def do_GET(self) -> None:
        query = parse_qs(urlsplit(self.path).query)
        wanted = query.get("message_id", [""])[0]
        held = self.mailbox is not None and any(
            str(m["Message-ID"]) == wanted for m in self.mailbox.snapshot()
        )
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"delivered": held}).encode())

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))) or b"{}")
        key = self.headers.get("idempotency-key", "")
        if key not in self.keys:
            self.keys.add(key)
            self.received.append(body)
        self.send_response(202)
        self.send_header("content-type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"id": key or str(uuid.uuid4())}).encode())

    def log_message(self, *args: Any) -> None:
        return


@dataclass(frozen=True)
class DevMailbox:
    """The development mailbox process `icam up` runs (the workspace's mailbox page reads it): it
    collects the platform's letters itself; e-mails and SMS reach it at its own sinks."""

    url: str
    smtp_port: int


@dataclass
class PlatformUnderTest:
    home: Path
    gateway_url: str
    web_url: str
    topic_prefix: str
    kafka_bootstrap: str
    issuer: LocalIssuer
    mailbox: Mailbox
    sms: list[dict[str, Any]]
    services: tuple[platform.Service, ...]
    logs: Path
    database_urls: dict[str, str]
    traces: TraceReceiver | None = None
    dev_mailbox: DevMailbox | None = None
    tokens: dict[Principal, str] = field(default_factory=dict)

    def token(
        self, role: Role, subject: str, region: str | None = None, organisation: str | None = None
    ) -> str:
        principal = Principal(subject, role, region, organisation)
        if principal not in self.tokens:
            self.tokens[principal] = self.issuer.mint(principal)
        return self.tokens[principal]

    def headers(self, role: Role, subject: str, **claims: str) -> dict[str, str]:
        return {"authorization": f"Bearer {self.token(role, subject, **claims)}"}

    def topic(self, name: str) -> str:
        return self.topic_prefix + name

    def log_tail(self, service: str, lines: int = 40, *, troubles_only: bool = False) -> str:
        """The last lines of a service's log; with `troubles_only`, its last warnings and errors
        (what says why a fault did not heal, instead of the access lines around it)."""
        path = self.logs / f"{service}.log"
        if not path.exists():
            return "(no log)"
        kept = path.read_text(errors="replace").splitlines()
        if troubles_only:
            kept = [line for line in kept if _TROUBLE.search(line)]
        return "\n".join(line[:400] for line in kept[-lines:])


_TROUBLE = re.compile(r'"level": "(warning|error|critical)"')


@contextmanager
def running_platform(
    kafka_bootstrap: str,
    postgres_url: str,
    home: Path,
    env: dict[str, str],
    port_offset: int = PORT_OFFSET,
    ready_timeout: float = 120,
    traces: TraceReceiver | None = None,
    dev_mailbox: bool = False,
) -> Iterator[PlatformUnderTest]:
    run_id = uuid.uuid4().hex[:8]
    prefix = f"e2e{run_id}."
    settings = InfraSettings.from_env(home)
    endpoints = Endpoints(kafka_bootstrap, postgres_url, True, True, database_prefix=f"e2e_{run_id}_")
    names = [s.name for s in platform.SERVICES if s.database]
    asyncio.run(_create_databases(postgres_url, [f"e2e_{run_id}_{n}" for n in names]))
    asyncio.run(topics.ensure_topics(kafka_bootstrap, replication_factor=1, partitions=3, prefix=prefix))

    mailbox = Mailbox()
    smtp = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    smtp.start()
    SmsProvider.received, SmsProvider.keys, SmsProvider.mailbox = [], set(), mailbox
    sms_server = ThreadingHTTPServer(("127.0.0.1", free_port()), SmsProvider)
    threading.Thread(target=sms_server.serve_forever, daemon=True).start()

    peers = platform.services(_shifted(port_offset))
    dev = DevMailbox(f"http://127.0.0.1:{free_port()}", free_port()) if dev_mailbox else None
    extra = {
        "ICAM_TOPIC_PREFIX": prefix,
        # consumer groups of their own: platforms of other test sessions on the same broker (and
        # a process killed by a fault test) never make this one's groups rebalance
        **{f"{n.upper()}_CONSUMER_GROUP": f"e2e{run_id}-{n}" for n in ("case", "invitation", "referral")},
        "NOTIFICATION_CONSUMER_PREFIX": f"e2e{run_id}-notification",
        "ICAM_CONSUMER_GROUP_PREFIX": f"e2e{run_id}-",  # the privacy topic's and service's consumers
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp.port),
        "SMS_PROVIDER_URL": f"http://127.0.0.1:{sms_server.server_port}/messages",
        "SMTP_DELIVERY_CHECK_URL": f"http://127.0.0.1:{sms_server.server_port}/delivered",
        **{f"{s.name.upper()}_URL": s.url for s in peers},
        **(_traced_by(traces) if traces else {}),
        **(_mailbox_at(dev, home) if dev else {}),
        **env,
    }
    started = (*_mailbox_service(dev), *peers)
    try:
        for service in started:
            # access logs on where the kernel's logging writes them (redacted, without queries)
            logged = service.name in platform.KERNEL_PROCESSES
            platform.start_service(service, endpoints, settings, peers, extra, access_log=logged)
        report = platform.wait_healthy(list(started), settings, timeout=ready_timeout)
        unhealthy = {n: state for n, state in report.items() if not state.startswith("healthy")}
        if unhealthy:
            tails = "\n".join(f"--- {n}\n{_tail(settings.logs_dir / (n + '.log'))}" for n in unhealthy)
            raise RuntimeError(f"platform did not come up: {unhealthy}\n{tails}")
        urls = {s.name: s.url for s in peers}
        yield PlatformUnderTest(
            home=home,
            gateway_url=urls["gateway"],
            web_url=urls["web"],
            topic_prefix=prefix,
            kafka_bootstrap=kafka_bootstrap,
            issuer=platform.local_issuer(settings),
            mailbox=mailbox,
            sms=SmsProvider.received,
            services=peers,
            database_urls={n: endpoints.database_for(n) for n in names},
            logs=settings.logs_dir,
            traces=traces,
            dev_mailbox=dev,
        )
    finally:
        for service in reversed(started):
            platform.stop_service(service, settings)
        smtp.stop()
        sms_server.shutdown()
        asyncio.run(_drop_databases(postgres_url, [f"e2e_{run_id}_{n}" for n in names]))


def _mailbox_service(dev: DevMailbox | None) -> tuple[platform.Service, ...]:
    if dev is None:
        return ()
    return (platform.Service("mailbox", int(dev.url.rsplit(":", 1)[1]), mailbox.APP, database=False),)


def _mailbox_at(dev: DevMailbox, home: Path) -> dict[str, str]:
    """The flag the mailbox and the workspace's page need, and where the mailbox listens."""
    return {
        mailbox.FLAG: "1",
        "ICAM_MAILBOX_URL": dev.url,
        "ICAM_MAILBOX_SMTP_PORT": str(dev.smtp_port),
        "ICAM_MAILBOX_DIR": str(home / "dev-mailbox"),
    }


def _traced_by(receiver: TraceReceiver) -> dict[str, str]:
    """Tracing on in every process, exporting to `receiver` every 0.1 s; no request or timer
    starts a trace by itself (share 0): only a request that comes with a sampled `traceparent` is
    traced, so the rest of the suite runs the instrumented code and exports nothing."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_TRACES_SAMPLER_ARG": "0",
        "OTEL_BSP_SCHEDULE_DELAY": "100",
    }


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text().splitlines()[-lines:]) if path.exists() else "(no log)"


async def _create_databases(admin_url: str, names: list[str]) -> None:
    for name in names:
        await postgres.ensure_database(admin_url, name)


async def _drop_databases(admin_url: str, names: list[str]) -> None:
    for name in names:
        await postgres.drop_database(admin_url, name)
