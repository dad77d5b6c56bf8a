"""The mailbox process: SMTP sink and letter collector in the lifespan, SMS sink and JSON API as routes.

`uvicorn --factory icam_platform.mailbox.app:create_app` (started by `icam up`). The routes are
documented in README.md beside this file and at `/docs`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from icam_auth import Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_platform.mailbox import MailboxSettings, api
from icam_platform.mailbox.intake import SmtpSink
from icam_platform.mailbox.letters import LetterCollector
from icam_platform.mailbox.store import MailStore

log = structlog.get_logger(__name__)


def create_app(settings: MailboxSettings | None = None) -> FastAPI:
    """The mailbox app; refuses to build outside a local platform (see `MailboxSettings`)."""
    settings = settings or MailboxSettings.from_env()
    _configure_logging()
    app = FastAPI(
        title="ICAM development mailbox",
        description="What the notification service sent: e-mails, SMS and letters. Never in production.",
        lifespan=_lifespan(settings),
    )
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET"])
    app.include_router(api.router)
    return app


def _configure_logging() -> None:
    """JSON lines like the services' logs when the platform asks for them (LOG_FORMAT=json)."""
    if os.environ.get("LOG_FORMAT") == "json":
        structlog.configure(
            processors=[
                structlog.processors.add_log_level,
                structlog.processors.TimeStamper(fmt="iso", utc=True),
                structlog.processors.JSONRenderer(),
            ]
        )


def _lifespan(settings: MailboxSettings) -> Callable[[FastAPI], Any]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = MailStore(settings.folder)
        app.state.store = store
        smtp = await asyncio.get_running_loop().create_server(
            lambda: SMTP(SmtpSink(store), hostname="icam-dev-mailbox", ident="ICAM development mailbox"),
            settings.smtp_host,
            settings.smtp_port,
        )
        letters = _collect_letters(settings, store)
        log.info("mailbox_started", smtp_port=settings.smtp_port, folder=str(settings.folder))
        try:
            yield
        finally:
            if letters is not None:
                letters.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await letters
            smtp.close()
            await smtp.wait_closed()
            store.close()

    return lifespan


def _collect_letters(settings: MailboxSettings, store: MailStore) -> asyncio.Task[None] | None:
    if not (settings.kafka_bootstrap and settings.notification_url):
        log.info("mailbox_letters_off", reason="no KAFKA_BOOTSTRAP_SERVERS or NOTIFICATION_URL")
        return None
    issuer = LocalIssuer(settings.home / "auth")
    collector = LetterCollector(
        store,
        settings.kafka_bootstrap,
        settings.notification_url,
        token=lambda: issuer.mint(Principal("dev-mailbox", Role.ADMIN), ttl_seconds=300),
        topic_prefix=settings.topic_prefix,
    )
    return asyncio.create_task(_restarting(collector.run), name="mailbox-letters")


async def _restarting(work: Callable[[], Awaitable[None]], max_backoff: float = 30.0) -> None:
    """Run `work` again after an error (Kafka not up yet, broker restarted), with backoff."""
    backoff = 1.0
    while True:
        try:
            await work()
        except Exception as error:
            log.warning("mailbox_letters_restart", error_type=type(error).__name__, backoff=backoff)
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, max_backoff)
