"""Documents on the file over HTTP: upload (raw bytes, at most 20 MiB), list, view through a
short-lived link, take off. Every view of a content passes the gateway, which audits it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request, Response

from icam_auth.fastapi import CurrentPrincipal
from icam_case import access, domain
from icam_case.documents import MAX_BYTES, DocumentStore, Links, content_type_of, sha256_of
from icam_case.domain.documents import ACCEPTED_TYPES
from icam_case.domain.state import Document
from icam_case.routes.context import App, CaseId, PersonIdPath
from icam_case.schemas import CaseAccepted, DocumentLink, DocumentOut, DocumentRemoveIn
from icam_contracts.enums import DocumentKind
from icam_kernel.errors import NotFound
from icam_kernel.http_commands import Command
from icam_kernel.openapi import binary_content
from icam_kernel.routing import PolicyRouter

router = PolicyRouter("case", tags=["documents"])
# what a document may be, in a fixed order (the OpenAPI document is committed)
FILE_TYPES = tuple(sorted(ACCEPTED_TYPES))


async def _store(request: Request) -> DocumentStore:
    store: DocumentStore = request.app.state.documents
    return store


async def _links(request: Request) -> Links:
    links: Links = request.app.state.document_links
    return links


Store = Annotated[DocumentStore, Depends(_store)]
LinkKeys = Annotated[Links, Depends(_links)]


@router.post(
    "/cases/{case_id}/documents",
    status_code=201,
    summary="Add a document to the file (the body is the file: PDF, JPEG or PNG, at most 20 MiB)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": binary_content(*FILE_TYPES),
        }
    },
)
async def add_document(
    case_id: CaseId,
    request: Request,
    command: Command,
    store: Store,
    kind: Annotated[DocumentKind, Query(examples=["travel_document"])],
    person_id: Annotated[str | None, Query(max_length=50, pattern=r"^[0-9A-Za-z./\-]+$")] = None,
    element_id: uuid.UUID | None = None,
) -> CaseAccepted:
    content = await request.body()
    if not content:
        raise domain.CaseRuleViolation("the body is the document, and it is empty", field="content")
    cmd = domain.AddDocument(
        uuid.uuid4(), kind, content_type_of(content), len(content), sha256_of(content), person_id, element_id
    )
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.add_document(case, cmd),
        authorize=access.may_record,
        created_id=str(cmd.document_id),
        alongside=lambda conn: store.put(conn, case_id, cmd.document_id, content),
    )
    return CaseAccepted.of(result)


@router.get(
    "/cases/{case_id}/documents",
    summary="The documents on the file (what they are, not their content); a partner: those shared with it",
)
async def list_documents(case_id: CaseId, who: CurrentPrincipal, app: App) -> list[DocumentOut]:
    case, visible = await _documents_of(app, case_id, who)
    return [
        DocumentOut(
            document_id=d.document_id,
            kind=d.kind.value,
            content_type=d.content_type,
            size_bytes=d.size_bytes,
            added_at=d.added_at,
            person_id=d.person_id,
            element_id=d.element_id,
            shared_with=list(case.partners_seeing(d)),
        )
        for d in case.documents
        if visible(d)
    ]


@router.post(
    "/cases/{case_id}/documents/{document_id}/link",
    summary="A link to view the document, valid for minutes and for the caller only",
)
async def link_to_document(
    case_id: CaseId, document_id: uuid.UUID, who: CurrentPrincipal, app: App, links: LinkKeys
) -> DocumentLink:
    await _document_of(app, case_id, document_id, who)
    token, expires = links.token(document_id, who.subject)
    return DocumentLink(
        url=f"/cases/{case_id}/documents/{document_id}/content?token={token}", expires_at=expires
    )


@router.get(
    "/cases/{case_id}/documents/{document_id}/content",
    summary="The document itself, through a link made for the caller",
    response_class=Response,
    responses={200: {"content": binary_content(*FILE_TYPES)}},
)
async def view_document(
    case_id: CaseId,
    document_id: uuid.UUID,
    who: CurrentPrincipal,
    app: App,
    store: Store,
    links: LinkKeys,
    token: Annotated[str, Query(min_length=10, max_length=200)],
) -> Response:
    links.check(token, document_id, who.subject)
    document = await _document_of(app, case_id, document_id, who)  # shares can end after the link
    async with app.pool.acquire() as conn:
        content = await store.get(conn, document_id)
    if content is None:
        raise NotFound("document", str(document_id))
    headers = {
        "Content-Disposition": "inline",
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    return Response(content, media_type=document.content_type, headers=headers)


@router.post(
    "/cases/{case_id}/documents/{document_id}/remove", status_code=202, summary="Take a document off the file"
)
async def remove_document(
    case_id: CaseId, document_id: uuid.UUID, body: DocumentRemoveIn, command: Command, store: Store
) -> CaseAccepted:
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.remove_document(case, document_id, body.reason),
        authorize=access.may_record,
        body=body,
        alongside=lambda conn: store.delete(conn, document_id),
    )
    return CaseAccepted.of(result)


@router.post(
    "/cases/{case_id}/documents/{document_id}/share",
    status_code=202,
    summary="Share a document with the return partner of the household's open referral",
)
async def share_document(case_id: CaseId, document_id: uuid.UUID, command: Command) -> CaseAccepted:
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.share_document(case, document_id),
        authorize=access.may_record,
    )
    return CaseAccepted.of(result)


async def _documents_of(
    app: App, case_id: uuid.UUID, who: CurrentPrincipal
) -> tuple[domain.Case, Callable[[Document], bool]]:
    async with app.pool.acquire() as conn:
        case = (await app.load(conn, domain.CASE, str(case_id))).state
    if not case.exists:
        raise NotFound("case", str(case_id))
    return case, access.visible_documents(who, case)


async def _document_of(
    app: App, case_id: uuid.UUID, document_id: uuid.UUID, who: CurrentPrincipal
) -> Document:
    """The document, if the caller sees it now; else 404, whether it was never there or not theirs."""
    case, visible = await _documents_of(app, case_id, who)
    document = case.document(document_id)
    if document is None or not visible(document):
        raise NotFound("document", str(document_id))
    return document


__all__ = ["MAX_BYTES", "PersonIdPath", "router"]
