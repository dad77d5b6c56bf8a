"""Composition root: `create_app(settings)` builds the case service; nothing connects before startup.

Run: `python -m uvicorn --factory icam_case.app:create_app --port 8102`.
"""

from __future__ import annotations

from fastapi import FastAPI

from icam_auth import AuthSettings
from icam_case import erasure
from icam_case.config import MIGRATIONS, SERVICE, CaseSettings
from icam_case.documents import MAX_BYTES, Links, PostgresDocumentStore
from icam_case.projections import CaseloadProjection, OutcomeStatsProjection, TaskList, forget_folds
from icam_case.reactions import free_household, handler_table
from icam_case.routes import ROUTERS
from icam_contracts.events import CaseDataPurged
from icam_kernel.guard import Limits
from icam_kernel.reactions import HandlerTable
from icam_kernel.service import ServiceRuntime, create_service_app
from icam_kernel.store import EventStore
from icam_kernel.subject_data import subject_data_router
from icam_kernel.upcasting import ContractUpcaster

DOCUMENT_UPLOADS = r"/cases/[^/]+/documents"

DESCRIPTION = """The ICAM trajectory of a person or household, from first contact to closure.

Commands answer with the case's stream version and the position to pass as `min_position` to
queries (read-your-writes); a retry with the same `Idempotency-Key` answers the first result.
Errors are `application/problem+json`: 422 names the field, 409 carries the case's status and
version, 404 unknown ids, 401/403 authentication and authorisation.
"""


def build_runtime(settings: CaseSettings) -> tuple[ServiceRuntime, HandlerTable]:
    """The runtime: the case store with its read models, the reactions, the closure policy."""
    tasks = TaskList(settings.topics.case, settings.tasks)
    store = EventStore(
        settings.topics.case,
        upcaster=ContractUpcaster(),
        inline_projections=[CaseloadProjection(settings.topics.case), OutcomeStatsProjection(), tasks],
    )
    runtime = ServiceRuntime(SERVICE, settings.service, migrations_dir=MIGRATIONS, store=store)
    runtime.application.after("TrajectoryClosed", free_household)
    reactions = handler_table(runtime.application, settings, tasks)
    for topic, name in (
        (settings.topics.invitation, "case-from-invitation"),
        (settings.topics.referral, "case-from-referral"),
        (settings.topics.notification, "case-from-notification"),
    ):
        runtime.consume(topic, name, reactions, group_id=settings.consumer_group)
    runtime.forget_erased(CaseDataPurged, *erasure.PURGES, forget=lambda _erased: forget_folds())
    return runtime, reactions


def create_app(settings: CaseSettings | None = None, auth: AuthSettings | None = None) -> FastAPI:
    """The case service's ASGI app; settings and auth default to the environment."""
    settings = settings or CaseSettings.from_env()
    runtime, reactions = build_runtime(settings)
    limits = Limits.from_env(large_bodies=[(DOCUMENT_UPLOADS, MAX_BYTES)])
    app = create_service_app(
        runtime,
        [*ROUTERS, subject_data_router(SERVICE, *erasure.SUBJECT_DATA)],
        auth=auth,
        limits=limits,
        description=DESCRIPTION,
        version="0.2.0",
    )
    app.state.settings = settings
    app.state.reactions = reactions
    app.state.documents = PostgresDocumentStore()
    app.state.document_links = Links.from_env()
    return app
