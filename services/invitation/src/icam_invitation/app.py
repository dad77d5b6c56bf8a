"""Composition root: ``create_app(settings)`` wires store, projections, reactions, timers and routes.

Nothing connects at import time; the kernel's lifespan opens the pool, applies migrations, starts
the outbox relay, the timer worker and the Kafka consumer, and stops them in reverse.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from icam_auth import AuthSettings
from icam_contracts.events import InvitationDataPurged
from icam_invitation import api, erasure, queries
from icam_invitation.config import SERVICE, Settings
from icam_invitation.projections import CoachAgenda, DeskVisitLog, InvitationList, PeopleIndex, RequestList
from icam_invitation.reactions import handler_table
from icam_invitation.timers import InvitationTimers
from icam_kernel.service import ServiceRuntime, create_service_app
from icam_kernel.store import EventStore
from icam_kernel.subject_data import subject_data_router

MIGRATIONS = Path(__file__).parent / "migrations"


def build_runtime(settings: Settings) -> ServiceRuntime:
    """The runtime: the invitation store and its read models, the timers, the case reactions."""
    office_of_desk = {d.code: d.office for d in settings.reference.desks}
    store = EventStore(
        settings.invitation_topic,
        inline_projections=[
            CoachAgenda(settings.policy.slot_duration, office_of_desk),
            InvitationList(),
            DeskVisitLog(),
            RequestList(),
            PeopleIndex(),
        ],
    )
    runtime = ServiceRuntime(
        SERVICE, settings.service, migrations_dir=MIGRATIONS, store=store, clock=settings.clock
    )
    InvitationTimers(runtime.application, settings).install(runtime.timers)
    runtime.consume(
        settings.case_topic,
        f"{SERVICE}.interview-held",
        handler_table(runtime.application, settings.honour_match_window),
        group_id=settings.consumer_group,
        description="InterviewHeld -> InvitationHonoured",
    )
    runtime.forget_erased(InvitationDataPurged, *erasure.PURGES)
    return runtime


def create_app(settings: Settings | None = None, auth: AuthSettings | None = None) -> FastAPI:
    """The invitation service as an ASGI app (uvicorn --factory icam_invitation.app:create_app)."""
    settings = settings or Settings.from_env()
    app = create_service_app(
        build_runtime(settings),
        routers=[api.router, queries.router, subject_data_router(SERVICE, *erasure.SUBJECT_DATA)],
        auth=auth,
        description="Invitations, appointment requests, walk-in desks, coach agendas and no-shows.",
        version="0.2.0",
    )
    app.state.settings = settings
    return app
