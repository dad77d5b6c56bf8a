"""Composition root: ``create_app(settings=None)``; nothing connects at import time.

uvicorn --factory icam_notification.app:create_app --port 8104
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from icam_auth import AuthSettings
from icam_contracts.enums import Channel
from icam_contracts.events import NotificationDataPurged
from icam_contracts.reference import ReferenceData, load_reference_data
from icam_kernel.service import ServiceRuntime, create_service_app
from icam_kernel.store import EventStore
from icam_kernel.subject_data import subject_data_router
from icam_notification import erasure
from icam_notification.api import router
from icam_notification.channels import HttpSmsSender, PdfLetterSender, SmtpSender
from icam_notification.config import Settings
from icam_notification.dispatcher import Dispatcher
from icam_notification.messages import ContactInfo
from icam_notification.projections import DeliveryStats
from icam_notification.reactions import Reactions

MIGRATIONS = Path(__file__).parent / "migrations"


class DispatcherWorker:
    """The dispatcher and its senders, built once the runtime's pool exists; a background task."""

    def __init__(self, runtime: ServiceRuntime, settings: Settings, reference: ReferenceData) -> None:
        self.runtime, self.settings, self.reference = runtime, settings, reference
        self.dispatcher: Dispatcher | None = None

    def wake(self) -> None:
        """Called by the reactions when they recorded new intents."""
        if self.dispatcher is not None:
            self.dispatcher.wake()

    async def run(self) -> None:
        pool = self.runtime.pool
        assert pool is not None, "the service has not started"
        s = self.settings
        contact = ContactInfo(s.atd_email, s.atd_phone, s.office_addresses)
        sms = HttpSmsSender(s.sms)
        senders: dict[Channel, Any] = {
            Channel.EMAIL: SmtpSender(s.smtp, reply_to=s.atd_email),
            Channel.SMS: sms,
            Channel.POSTAL_LETTER: PdfLetterSender(pool, self.reference, contact),
        }
        self.dispatcher = Dispatcher(
            pool,
            self.runtime.application,
            senders,
            retry=s.retry,
            lease=s.lease,
            poll_interval=s.poll_interval,
        )
        try:
            await self.dispatcher.run()
        finally:
            self.dispatcher = None
            await sms.close()


def build_runtime(settings: Settings, reference: ReferenceData | None = None) -> ServiceRuntime:
    """The runtime with its store, projections, subscriptions and dispatcher (not started)."""
    store = EventStore(settings.topics.notification, inline_projections=[DeliveryStats()])
    runtime = ServiceRuntime("notification", settings.service, MIGRATIONS, store)
    reference = reference or load_reference_data()
    worker = DispatcherWorker(runtime, settings, reference)
    runtime.background("dispatcher", worker.run)
    reactions = Reactions(settings, reference, runtime.application, worker.wake)
    prefix = settings.consumer_prefix
    # invitation sent, reminder, rescheduled, cancelled -> the household; outcome, closure -> the
    # household's letter; referred -> the partner and the person (other events are passed over)
    for topic, name in (
        (settings.topics.invitation, "invitation"),
        (settings.topics.case, "case"),
        (settings.topics.referral, "referral"),
    ):
        runtime.consume(topic, f"{prefix}.{name}", reactions.table(topic))
    runtime.forget_erased(NotificationDataPurged, *erasure.PURGES)
    return runtime


def create_app(settings: Settings | None = None, auth: AuthSettings | None = None) -> FastAPI:
    """The notification service's ASGI app (``auth``: token settings, else from the environment)."""
    runtime = build_runtime(settings or Settings.from_env())
    return create_service_app(
        runtime,
        routers=[router, subject_data_router("notification", *erasure.SUBJECT_DATA)],
        auth=auth,
        description="Letters, e-mails and SMS in the person's language, delivered exactly once.",
        version="0.2.0",
    )
