"""Documents on the case file: add one (PDF, JPEG or PNG; what it is, whom it concerns, the dossier
element it satisfies), open it through the short-lived link the case service makes for the viewer,
take it off the file. The web keeps no copy: an upload goes from memory to the gateway, a view
comes from the gateway's link straight to the browser."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import Response

from icam_web import csrf, pages, problems
from icam_web.actions import again, command, done_url, gateway, go, one_click, text, values_of
from icam_web.deps import Coaching, CsrfRefused, Form
from icam_web.files import passed_on
from icam_web.gateway import GatewayProblem, Upload
from icam_web.routes.case_actions import case_of
from icam_web.sessions import Session
from icam_web.uploads import NotAnUpload, UploadForm, read_upload

router = APIRouter()
MAX_BYTES = 20 * 1024 * 1024  # what the case service accepts; the web forwards one byte more at most
VIEWABLE = ("application/pdf", "image/jpeg", "image/png")
FIELDS = ("file", "kind", "person_id", "element_id")
ALIASES = {"content": "file"}  # the case service calls the body `content`


def outstanding(case: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in case.get("dossier_elements", []) if not e.get("received_at")]


def _upload_page(
    request: Request, session: Session, case: dict[str, Any], values: dict[str, Any], problem: Any = None
) -> Response:
    context: dict[str, Any] = {"case": case, "values": values, "elements": outstanding(case)}
    if problem is None:
        return pages.render(request, "document_upload.html", session, problem=None, **context)
    return again(request, "document_upload.html", session, problem, **context)


@router.get("/cases/{case_id}/documents/new")
async def upload_form(request: Request, case_id: str, session: Coaching) -> Response:
    case = await case_of(request, session, case_id)
    return _upload_page(request, session, case, {"element_id": request.query_params.get("element", "")})


async def _form_of(request: Request, session: Session) -> UploadForm:
    try:
        upload = await read_upload(request.headers.get("content-type", ""), request.stream(), limit=MAX_BYTES)
    except NotAnUpload as exc:
        raise CsrfRefused() from exc  # no form of ours: refused like a forged one
    if not csrf.matches(session.csrf_token, upload.fields.get(csrf.FIELD)):
        raise CsrfRefused()
    return upload


def _problem_of(request: Request, problem: GatewayProblem) -> problems.ProblemView:
    """The service's problem next to the file field: a 413 names no field, it is the file's."""
    lang = pages.language_of(request)
    view = problems.view_of(problem.status, problem.problem, lang.gettext, FIELDS, ALIASES)
    if problem.status == 413:
        return problems.ProblemView(422, "", {"file": view.summary}, view.details)
    return view


@router.post("/cases/{case_id}/documents/new")
async def add_document(request: Request, case_id: str, session: Coaching) -> Response:
    upload = await _form_of(request, session)
    wanted = {k: upload.fields.get(k, "").strip() for k in ("kind", "person_id", "element_id")}
    try:
        answer = await gateway(request).post_file(
            session,
            f"/api/cases/{case_id}/documents",
            Upload(upload.data, upload.content_type),
            **wanted,
        )
    except GatewayProblem as problem:
        case = await case_of(request, session, case_id)
        return _upload_page(request, session, case, wanted, _problem_of(request, problem))
    return go(done_url(f"/cases/{case_id}", "document", position=answer.get("position")))


def _split(url: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(url)
    return "/api" + parts.path, dict(parse_qsl(parts.query))


@router.get("/cases/{case_id}/documents/{document_id}")
async def open_document(request: Request, case_id: str, document_id: str, session: Coaching) -> Response:
    return await view(request, session, case_id, document_id)


async def view(request: Request, session: Session, case_id: str, document_id: str) -> Response:
    """Ask the case service for a link made for this person, and follow it through the gateway
    (which audits the view); the bytes go to the browser, nothing is kept."""
    gw = gateway(request)
    link = await gw.post(session, f"/api/cases/{case_id}/documents/{document_id}/link", {})
    path, params = _split(str(link["url"]))
    answer = await gw.call(session, "GET", path, params=params, purpose="view a document")
    return passed_on(answer, VIEWABLE)


@router.post("/cases/{case_id}/documents/{document_id}/share")
async def share_document(
    request: Request, case_id: str, document_id: str, session: Coaching, form: Form
) -> Response:
    """Share with the partner of the open referral (the button shows only while there is one)."""
    path = f"/api/cases/{case_id}/documents/{document_id}/share"
    return await one_click(request, session, path, case_id, "document_shared")


async def _document(
    request: Request, session: Session, case_id: str, document_id: str
) -> dict[str, Any] | None:
    found = await gateway(request).get(session, f"/api/cases/{case_id}/documents", "remove a document")
    return next((d for d in found if d["document_id"] == document_id), None)


@router.get("/cases/{case_id}/documents/{document_id}/remove")
async def remove_form(request: Request, case_id: str, document_id: str, session: Coaching) -> Response:
    case = await case_of(request, session, case_id)
    document = await _document(request, session, case_id, document_id)
    if document is None:
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    return pages.render(
        request, "document_remove.html", session, case=case, document=document, values={}, problem=None
    )


@router.post("/cases/{case_id}/documents/{document_id}/remove")
async def remove_document(
    request: Request, case_id: str, document_id: str, session: Coaching, form: Form
) -> Response:
    path = f"/api/cases/{case_id}/documents/{document_id}/remove"
    answer, problem = await command(
        request, session, path, {"reason": text(form, "reason")}, fields=("reason",)
    )
    if problem:
        case = await case_of(request, session, case_id)
        document = await _document(request, session, case_id, document_id) or {"document_id": document_id}
        context = {"case": case, "document": document, "values": values_of(form)}
        return again(request, "document_remove.html", session, problem, **context)
    assert answer is not None
    return go(done_url(f"/cases/{case_id}", "document_removed", position=answer.get("position")))
