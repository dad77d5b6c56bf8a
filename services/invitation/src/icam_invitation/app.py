"""Composition root: ``create_app(settings)`` wires store, projections, consumer, timers and routes.

Nothing connects at import time; the kernel's lifespan opens the pool, applies migrations, starts
the outbox relay, the timer worker and the Kafka consumer, and stops them in reverse.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from icam_auth.fastapi import install_verifier
from icam_invitation import api, queries
from icam_invitation.commands import NO_SHOW, REMINDER, Commands
from icam_invitation.config import SERVICE, Settings
from icam_invitation.domain.errors import DomainError
from icam_invitation.projections import CoachAgenda, DeskVisitLog, InvitationList
from icam_invitation.reactions import when_interview_held_mark_invitation_honoured
from icam_kernel.http import problem
from icam_kernel.service import ServiceRuntime, create_service_app
from icam_kernel.store import EventStore

MIGRATIONS = Path(__file__).parent / "migrations"


def create_app(settings: Settings | None = None) -> FastAPI:
    """The invitation service as an ASGI app (uvicorn --factory icam_invitation.app:create_app)."""
    settings = settings or Settings.from_env()
    office_of_desk = {d.code: d.office for d in settings.reference.desks}
    store = EventStore(
        settings.invitation_topic,
        inline_projections=[
            CoachAgenda(settings.policy.slot_duration, office_of_desk),
            InvitationList(),
            DeskVisitLog(),
        ],
    )
    runtime = ServiceRuntime(SERVICE, settings.service, migrations_dir=MIGRATIONS, store=store)
    commands = Commands(settings, store, lambda: _pool(runtime))
    runtime.timers[NO_SHOW] = commands.on_no_show_timer
    runtime.timers[REMINDER] = commands.on_reminder_timer
    runtime.consume(
        settings.case_topic,
        f"{SERVICE}.interview-held",
        when_interview_held_mark_invitation_honoured(commands, settings.honour_match_window),
        group_id=settings.consumer_group,
        event_types={"InterviewHeld"},
        description="InterviewHeld -> InvitationHonoured",
    )
    app = create_service_app(
        runtime,
        routers=[api.router, queries.router],
        description="Invitations, appointment requests, walk-in desks, coach agendas and no-shows.",
        version="0.1.0",
    )
    app.state.commands = commands
    app.state.settings = settings
    install_verifier(app)  # this app's own keys, read now from the environment
    _install_problems(app)
    return app


def _pool(runtime: ServiceRuntime):  # type: ignore[no-untyped-def]
    assert runtime.pool is not None, "the service has not started"
    return runtime.pool


def _install_problems(app: FastAPI) -> None:
    async def domain_error(_: Request, error: Exception) -> Response:
        assert isinstance(error, DomainError)
        return problem(
            error.status, "Refused by a business rule", str(error), kind=error.code, extensions=error.details
        )

    async def http_error(_: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return problem(
            error.status_code,
            "Request refused",
            str(error.detail),
            kind=f"http-{error.status_code}",
            headers=error.headers,
        )

    app.add_exception_handler(DomainError, domain_error)
    app.add_exception_handler(HTTPException, http_error)
