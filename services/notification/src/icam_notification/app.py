"""Composition root: ``create_app(settings=None)``; nothing connects at import time.

uvicorn --factory icam_notification.app:create_app --port 8104
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from icam_auth import AuthSettings
from icam_contracts.enums import Channel
from icam_contracts.reference import ReferenceData, load_reference_data
from icam_kernel.service import ServiceRuntime, create_service_app
from icam_kernel.store import EventStore
from icam_notification.api import router
from icam_notification.channels import HttpSmsSender, PdfLetterSender, SmtpSender
from icam_notification.config import Settings
from icam_notification.dispatcher import Dispatcher
from icam_notification.messages import ContactInfo
from icam_notification.projections import DeliveryStats
from icam_notification.reactions import Reactions

MIGRATIONS = Path(__file__).parent / "migrations"


class NotificationRuntime(ServiceRuntime):
    """The kernel's runtime plus the dispatcher, started once the pool exists."""

    notification_settings: Settings
    reference: ReferenceData
    dispatcher: Dispatcher | None = None
    senders: dict[Channel, Any]

    def wake_dispatcher(self) -> None:
        """Called by the reactions when they recorded new intents."""
        if self.dispatcher is not None:
            self.dispatcher.wake()

    async def start(self) -> None:
        await super().start()
        assert self.pool is not None
        s = self.notification_settings
        contact = ContactInfo(s.atd_email, s.atd_phone, s.office_addresses)
        self.senders = {
            Channel.EMAIL: SmtpSender(s.smtp, reply_to=s.atd_email),
            Channel.SMS: HttpSmsSender(s.sms),
            Channel.POSTAL_LETTER: PdfLetterSender(self.pool, self.reference, contact),
        }
        self.dispatcher = Dispatcher(
            self.pool, self.store, self.senders, retry=s.retry, lease=s.lease, poll_interval=s.poll_interval
        )
        self._spawn(self.dispatcher.run())

    async def stop(self) -> None:
        await super().stop()
        sms = getattr(self, "senders", {}).get(Channel.SMS)
        if isinstance(sms, HttpSmsSender):
            await sms.close()


def build_runtime(settings: Settings, reference: ReferenceData | None = None) -> NotificationRuntime:
    """The runtime with its store, projections and subscriptions (not started)."""
    store = EventStore(settings.topics.notification, inline_projections=[DeliveryStats()])
    runtime = NotificationRuntime("notification", settings.service, MIGRATIONS, store)
    runtime.notification_settings = settings
    runtime.reference = reference or load_reference_data()
    reactions = Reactions(settings, runtime.reference, store, runtime.wake_dispatcher)
    prefix = settings.consumer_prefix
    runtime.consume(
        settings.topics.invitation, f"{prefix}.invitation", reactions.when_invitation_event_notify_household
    )
    runtime.consume(settings.topics.case, f"{prefix}.case", reactions.when_case_event_notify_household)
    runtime.consume(
        settings.topics.referral,
        f"{prefix}.referral",
        reactions.when_referral_event_notify_partner_and_person,
    )
    return runtime


def create_app(settings: Settings | None = None, auth: AuthSettings | None = None) -> FastAPI:
    """The notification service's ASGI app (``auth``: token settings, else from the environment)."""
    runtime = build_runtime(settings or Settings.from_env())
    app = create_service_app(
        runtime,
        routers=[router],
        description="Letters, e-mails and SMS in the person's language, delivered exactly once.",
        version="0.1.0",
    )
    app.state.auth = auth
    return app
