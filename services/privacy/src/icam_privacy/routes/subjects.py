"""Subject access: the DPO exports everything held about a person, as JSON or PDF."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import Response

from icam_auth.fastapi import CurrentPrincipal
from icam_kernel.http_queries import App
from icam_kernel.openapi import binary_content
from icam_kernel.routing import PolicyRouter
from icam_privacy import subject_access
from icam_privacy.config import PrivacySettings
from icam_privacy.domain.errors import UnknownPerson

router = PolicyRouter("privacy", tags=["subject access"])
PersonId = Annotated[str, Query(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")]


@router.get(
    "/subjects/{person_id}",
    summary="Everything the platform holds about a person (GDPR art. 15)",
    responses={200: {"content": {"application/json": {}, **binary_content("application/pdf")}}},
)
async def export(
    person_id: str,
    request: Request,
    app: App,
    _: CurrentPrincipal,
    format: Annotated[str, Query(pattern="^(json|pdf)$")] = "json",
) -> Any:
    """Every service's events about the person's households (opened) and read-model rows, and the
    privacy service's own records; `format=pdf` for the readable version."""
    settings: PrivacySettings = request.app.state.settings
    async with app.pool.acquire() as conn:
        own = await subject_access.own_records(conn, person_id)
    services = await subject_access.from_services(
        request.app.state.http, settings.service_urls, person_id, request.headers.get("authorization", "")
    )
    document = subject_access.export(person_id, own, services)
    if not subject_access.known(document):
        raise UnknownPerson()
    if format == "pdf":
        return Response(subject_access.pdf(document), media_type="application/pdf")
    return document
