"""Composition root: `create_app(settings)` wires the kernel runtime, reactions, timer and routes.

Nothing connects at import time; `uvicorn --factory icam_referral.app:create_app` reads the
settings from the environment, tests pass their own.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI

from icam_auth.fastapi import install_verifier
from icam_contracts.topics import CASE_EVENTS
from icam_kernel.service import ServiceRuntime, create_service_app
from icam_kernel.store import EventStore
from icam_referral.api import Context, router
from icam_referral.config import SERVICE, ReferralSettings
from icam_referral.projections import ReferralView
from icam_referral.reactions import CaseReactions
from icam_referral.referrals import OVERDUE_TIMER, Referrals

MIGRATIONS = Path(__file__).parent / "migrations"

DESCRIPTION = f"""Referrals to return partners (Fedasil, IOM, Caritas International) and their follow-up
until departure. Reacts to `OutcomeDecided` on `{CASE_EVENTS}`; publishes on `icam.referral.events`."""


def create_runtime(settings: ReferralSettings) -> tuple[ServiceRuntime, Referrals]:
    """The kernel runtime with the referral store, the case-event consumer and the deadline timer."""
    store = EventStore(settings.referral_topic, inline_projections=[ReferralView()])
    referrals = Referrals(store, settings)
    runtime = ServiceRuntime(
        SERVICE, settings.service, migrations_dir=MIGRATIONS, store=store, retry=settings.retry
    )
    reactions = CaseReactions(referrals)
    runtime.consume(
        settings.case_topic, settings.consumer_group, reactions, event_types=reactions.event_types
    )
    runtime.timers[OVERDUE_TIMER] = referrals.when_overdue_timer_fires
    return runtime, referrals


def create_app(settings: ReferralSettings | None = None) -> FastAPI:
    """The referral service as an ASGI app; its lifespan starts and stops the runtime."""
    settings = settings or ReferralSettings.from_env()
    runtime, referrals = create_runtime(settings)
    app = create_service_app(runtime, routers=[router], description=DESCRIPTION, version="0.1.0")
    app.title = "ICAM referral service"
    app.state.referral = Context(settings=settings, referrals=referrals, pool=_PoolOf(runtime))
    install_verifier(app)  # this app's own keys, read now from the environment
    return app


class _PoolOf:
    """The runtime's pool, which exists only once the lifespan started it."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    def acquire(self) -> Any:
        assert self.runtime.pool is not None, "the service has not started"
        return self.runtime.pool.acquire()
