"""Composition root: `create_app(settings)` wires the kernel runtime, reactions, timer and routes.

Nothing connects at import time; `uvicorn --factory icam_referral.app:create_app` reads the
settings from the environment, tests pass their own.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from icam_auth import AuthSettings
from icam_contracts.events import ReferralDataPurged
from icam_contracts.topics import CASE_EVENTS
from icam_kernel.reactions import HandlerTable
from icam_kernel.service import ServiceRuntime, create_service_app
from icam_kernel.store import EventStore
from icam_kernel.subject_data import subject_data_router
from icam_referral import erasure
from icam_referral.api import router
from icam_referral.config import SERVICE, ReferralSettings
from icam_referral.projections import ReferralView
from icam_referral.reactions import CaseReactions
from icam_referral.referrals import ReferralLifecycle

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = f"""Referrals to return partners (Fedasil, IOM, Caritas International) and their follow-up
until departure. Reacts to `OutcomeDecided` on `{CASE_EVENTS}`; publishes on `icam.referral.events`."""


def create_runtime(settings: ReferralSettings) -> tuple[ServiceRuntime, ReferralLifecycle, HandlerTable]:
    """The kernel runtime with the referral store, the case-event reactions and the deadline timer."""
    store = EventStore(settings.referral_topic, inline_projections=[ReferralView()])
    runtime = ServiceRuntime(
        SERVICE,
        settings.service,
        migrations_dir=MIGRATIONS,
        store=store,
        retry=settings.retry,
        clock=settings.clock,
    )
    lifecycle = ReferralLifecycle(runtime.application, settings)
    lifecycle.install(runtime.timers)
    reactions = CaseReactions(settings).table(runtime.application)
    runtime.consume(settings.case_topic, settings.consumer_group, reactions)
    runtime.forget_erased(ReferralDataPurged, *erasure.PURGES)
    return runtime, lifecycle, reactions


def create_app(settings: ReferralSettings | None = None, auth: AuthSettings | None = None) -> FastAPI:
    """The referral service as an ASGI app; its lifespan starts and stops the runtime."""
    settings = settings or ReferralSettings.from_env()
    runtime, lifecycle, reactions = create_runtime(settings)
    app = create_service_app(
        runtime,
        [router, subject_data_router(SERVICE, *erasure.SUBJECT_DATA)],
        auth=auth,
        title="ICAM referral service",
        description=DESCRIPTION,
        version="0.2.0",
    )
    app.state.settings, app.state.lifecycle, app.state.reactions = settings, lifecycle, reactions
    return app
