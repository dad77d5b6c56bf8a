"""Composition root: `create_app(settings)` builds the privacy service; nothing connects before startup.

Run: `python -m uvicorn --factory icam_privacy.app:create_app --port 8107`.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from icam_auth import AuthSettings
from icam_contracts.events import (
    CaseDataPurged,
    InvitationDataPurged,
    NotificationDataPurged,
    ReferralDataPurged,
)
from icam_kernel.reactions import HandlerTable, Remember
from icam_kernel.service import ServiceRuntime, create_service_app
from icam_kernel.store import EventStore
from icam_privacy import erasures, holds
from icam_privacy.config import MIGRATIONS, SERVICE, PrivacySettings
from icam_privacy.households import Households
from icam_privacy.kek import LocalKek
from icam_privacy.retention import KIND, Retention
from icam_privacy.routes import ROUTERS

DESCRIPTION = """Custody of the per-person data keys (crypto-shredding), erasure orders with a receipt
from every service, retention after closure with legal holds, subject access exports.

The privacy service holds no personal data of its own: dossier references, household ids and
wrapped keys. Services obtain keys with their workload token (`/keys/issue`, `/keys/release`);
the data-protection officer orders erasures, places holds and exports what is held about a person.
"""

REPORTS = (InvitationDataPurged, CaseDataPurged, ReferralDataPurged, NotificationDataPurged)


def build_runtime(settings: PrivacySettings) -> ServiceRuntime:
    """The privacy store (orders, holds), its policies, the retention timer, the consumers."""
    store = EventStore(settings.topics.privacy)
    runtime = ServiceRuntime(
        SERVICE,
        settings.service,
        migrations_dir=MIGRATIONS,
        store=store,
        clock=settings.clock,
        seals_personal_data=False,
    )
    retention = Retention(runtime.application, settings.retain_closed, settings.retain_unanswered)
    runtime.timers[KIND] = retention.on_due
    erasures.install(runtime.application)
    holds.install(runtime.application, retention)
    reports = [Remember(report, erasures.remember_report) for report in REPORTS]
    table = HandlerTable(runtime.application, *Households(retention).rows(), *reports)
    topics = settings.topics
    for source, topic in (
        ("invitation", topics.invitation),
        ("case", topics.case),
        ("referral", topics.referral),
        ("notification", topics.notification),
    ):
        runtime.consume(topic, f"privacy-from-{source}", table)
    return runtime


def create_app(settings: PrivacySettings | None = None, auth: AuthSettings | None = None) -> FastAPI:
    settings = settings or PrivacySettings.from_env()
    runtime = build_runtime(settings)
    app = create_service_app(runtime, ROUTERS, auth=auth, description=DESCRIPTION, version="0.1.0")
    app.state.settings = settings
    app.state.kek = LocalKek(settings.kek)
    app.state.http = httpx.AsyncClient(timeout=30.0)
    return app
