"""The data-protection officer's screens: erasure orders and their receipts, retention (what will be
erased when, legal holds), subject access (GDPR art. 15, JSON and PDF streamed from the gateway)
and the key-access log. Auditors read the receipts and the key-access log, nothing else here."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Mapping
from typing import Annotated, Any
from urllib.parse import quote, urlencode

import httpx
from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse
from starlette.background import BackgroundTask
from starlette.datastructures import FormData

from icam_auth import Role
from icam_web import pages, problems
from icam_web.actions import again, banner, done_url, gateway, go, values_of
from icam_web.deps import Form, role_in
from icam_web.gateway import GatewayProblem, TokenExpired
from icam_web.labels import LABELS
from icam_web.sessions import Session

router = APIRouter()


def _(message: str) -> str:
    """Marks a message for the catalogues; it is translated where it is shown."""
    return message


Dpo = Annotated[Session, Depends(role_in(Role.DATA_PROTECTION_OFFICER))]
Reader = Annotated[Session, Depends(role_in(Role.DATA_PROTECTION_OFFICER, Role.AUDITOR))]

ERASURE_FIELDS = ("person_id", "legal_basis", "order_reference")
HOLD_FIELDS = ("basis", "order_reference")
LIMIT = 200
POLL_SECONDS = 2
# what the privacy service's problems mean, in the person's language: (field, message)
KNOWN_PROBLEMS = {
    "unknown-person": ("person_id", _("No household of the platform has this dossier reference.")),
    "already-erased": ("person_id", _("This person was erased already: the first order's receipt stands.")),
    "hold-already-released": ("", _("This hold was released already.")),
}
# a field left empty, said for what it is
MISSING = {
    "person_id": _("Enter the dossier reference."),
    "legal_basis": _("Choose the legal basis of the erasure."),
    "basis": _("Say why the data must be kept (at least 3 characters)."),
}
PATTERN = _("Use letters, digits and . _ / - only, starting with a letter or digit.")
EMPTY_MESSAGES = ("Enter a value.", "Field required.", "String should have at least 1 character.")
SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def basis_options(gettext: Any) -> list[tuple[str, str]]:
    """The legal bases of an erasure (GDPR art. 17(1) and the retention period), in plain words."""
    return [(code, gettext(text)) for code, text in LABELS["erasure_basis"].items()]


def erasure_body(form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    """The erasure order as the privacy service takes it; an empty field is left out, so that the
    service names it (a missing legal basis is refused, never guessed)."""
    body: dict[str, Any] = {}
    for name in ERASURE_FIELDS:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            body[name] = value.strip()
    return body


def hold_body(household_id: str, form: FormData | Mapping[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {"household_id": household_id}
    for name in HOLD_FIELDS:
        value = form.get(name)
        body[name] = value.strip() if isinstance(value, str) and value.strip() else None
    if body["basis"] is None:
        del body["basis"]  # the service says it is required
    return body


def problem_view(
    status: int, problem: Mapping[str, Any], gettext: problems.Gettext, fields: tuple[str, ...]
) -> problems.ProblemView:
    """A privacy problem next to the field it names, in the person's words: an unknown person, an
    erasure ordered before (with the first erasure's id to link to), a field left empty."""
    view = problems.view_of(status, problem, gettext, fields)
    found, summary = dict(view.fields), view.summary
    code = str(problem.get("type", "")).rsplit(":", 1)[-1]
    if code in KNOWN_PROBLEMS:
        name, message = KNOWN_PROBLEMS[code]
        if name in fields:
            found[name] = gettext(message)
        else:
            summary = gettext(message)
    empty = {gettext(m) for m in EMPTY_MESSAGES} | set(EMPTY_MESSAGES)
    for name, message in view.fields.items():
        if name in MISSING and message in empty:
            found[name] = gettext(MISSING[name])
        elif message.startswith("String should match pattern"):
            found[name] = gettext(PATTERN)
    if found and summary == problems._generic(view.status, gettext):
        summary = ""  # each message stands next to its field
    return problems.ProblemView(view.status, summary, found, view.details)


async def send(
    request: Request, session: Session, path: str, body: Mapping[str, Any] | None, fields: tuple[str, ...]
) -> tuple[dict[str, Any] | None, problems.ProblemView | None]:
    try:
        answer: dict[str, Any] = await gateway(request).post(session, path, dict(body or {}))
        return answer, None
    except GatewayProblem as problem:
        lang = pages.language_of(request)
        return None, problem_view(problem.status, problem.problem, lang.gettext, fields)


def _form_context(request: Request, values: Mapping[str, Any]) -> dict[str, Any]:
    lang = pages.language_of(request)
    return {"values": dict(values), "bases": basis_options(lang.gettext)}


# --- erasures -------------------------------------------------------------------------------------


@router.get("/erasures")
async def erasures(request: Request, session: Reader) -> Response:
    receipts = await gateway(request).get(session, "/api/erasures", "erasure receipts", limit=LIMIT)
    return pages.render(request, "erasures.html", session, receipts=receipts, limit=LIMIT, **banner(request))


@router.get("/erasures/new")
async def new_erasure(request: Request, session: Dpo) -> Response:
    values = {k: request.query_params.get(k, "") for k in ERASURE_FIELDS}
    return pages.render(request, "erasure_new.html", session, problem=None, **_form_context(request, values))


@router.post("/erasures/confirm")
async def confirm_erasure(request: Request, session: Dpo, form: Form) -> Response:
    """The order once more, with what cannot be undone; an incomplete order goes no further than
    the privacy service's refusal, shown next to the field it names."""
    body = erasure_body(form)
    if not {"person_id", "legal_basis"} <= set(body):
        _, problem = await send(request, session, "/api/erasures", body, ERASURE_FIELDS)
        if problem:
            return again(
                request, "erasure_new.html", session, problem, **_form_context(request, values_of(form))
            )
    lang = pages.language_of(request)
    back = "/erasures/new?" + urlencode(body)
    return pages.render(
        request,
        "erasure_confirm.html",
        session,
        order=body,
        basis_label=dict(basis_options(lang.gettext)).get(body.get("legal_basis", ""), ""),
        back=back,
    )


@router.post("/erasures")
async def order_erasure(request: Request, session: Dpo, form: Form) -> Response:
    answer, problem = await send(request, session, "/api/erasures", erasure_body(form), ERASURE_FIELDS)
    if problem or answer is None:
        assert problem is not None
        return again(request, "erasure_new.html", session, problem, **_form_context(request, values_of(form)))
    return go(done_url(f"/erasures/{answer['id']}", "erasure", draft="erasure:new"))


@router.get("/erasures/{erasure_id}")
async def receipt(request: Request, erasure_id: str, session: Reader) -> Response:
    if not _is_uuid(erasure_id):
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    found = await gateway(request).get(session, f"/api/erasures/{erasure_id}", "erasure receipt")
    template = "_receipt.html" if request.headers.get("hx-request") == "true" else "erasure_receipt.html"
    return pages.render(
        request, template, session, receipt=found, poll=POLL_SECONDS, rows=_rows(found), **banner(request)
    )


def _rows(found: Mapping[str, Any]) -> int:
    return sum(int(s.get("rows", 0)) for s in found.get("stores", []))


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


# --- retention and legal holds --------------------------------------------------------------------


async def _retention(
    request: Request, session: Session, problem: problems.ProblemView | None = None
) -> Response:
    gw = gateway(request)
    schedule = await gw.get(session, "/api/retention", "retention schedule", limit=LIMIT)
    current = await gw.get(session, "/api/holds", "retention holds", current="true", limit=LIMIT)
    holds: dict[str, list[dict[str, Any]]] = {}
    for hold in current:
        holds.setdefault(str(hold["household_id"]), []).append(hold)
    context: dict[str, Any] = {"schedule": schedule, "holds": holds, "limit": LIMIT, **banner(request)}
    if problem:
        return again(request, "retention.html", session, problem, **context)
    return pages.render(request, "retention.html", session, problem=None, **context)


@router.get("/retention")
async def retention(request: Request, session: Dpo) -> Response:
    return await _retention(request, session)


@router.get("/retention/{household_id}/hold")
async def hold_form(request: Request, household_id: str, session: Dpo) -> Response:
    if not _is_uuid(household_id):
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    return pages.render(request, "hold.html", session, household_id=household_id, values={}, problem=None)


@router.post("/retention/{household_id}/hold")
async def place_hold(request: Request, household_id: str, session: Dpo, form: Form) -> Response:
    if not _is_uuid(household_id):
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    _, problem = await send(request, session, "/api/holds", hold_body(household_id, form), HOLD_FIELDS)
    if problem:
        return again(
            request, "hold.html", session, problem, household_id=household_id, values=values_of(form)
        )
    return go(done_url("/retention", "hold", draft=f"hold:{household_id}"))


@router.post("/retention/holds/{hold_id}/release")
async def release_hold(request: Request, hold_id: str, session: Dpo, form: Form) -> Response:
    if not _is_uuid(hold_id):
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    _, problem = await send(request, session, f"/api/holds/{hold_id}/release", {}, ())
    if problem:
        return await _retention(request, session, problem)
    return go(done_url("/retention", "released"))


# --- subject access -------------------------------------------------------------------------------


def summary_of(document: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The export, one section per service: its households, its events (when, what, what it says)
    and its stores with their rows; the privacy service's own records first."""
    own = document.get("privacy", {})
    sections = [
        {
            "service": "privacy",
            "households": [h.get("household_id") for h in own.get("households", [])],
            "events": [],
            "stores": {k: own.get(k, []) for k in ("households", "data_keys", "holds") if own.get(k)},
            "unavailable": None,
        }
    ]
    for service, held in (document.get("services") or {}).items():
        sections.append(
            {
                "service": service,
                "households": list(held.get("household_ids", [])),
                "events": [
                    {"at": e.get("occurred_at"), "type": e.get("event_type"), "says": _flat(e.get("data"))}
                    for e in held.get("events", [])
                ],
                "stores": {k: v for k, v in (held.get("stores") or {}).items() if v},
                "unavailable": held.get("unavailable"),
            }
        )
    return sections


def _flat(data: Any, prefix: str = "") -> list[tuple[str, str]]:
    """An event's data as `path: value` lines, nested objects and lists spelt out."""
    if isinstance(data, dict):
        lines: list[tuple[str, str]] = []
        for key, value in data.items():
            lines += _flat(value, f"{prefix}{key}.")
        return lines
    if isinstance(data, list) and any(isinstance(v, dict | list) for v in data):
        lines = []
        for n, value in enumerate(data):
            lines += _flat(value, f"{prefix}{n}.")
        return lines
    if data is None or data == [] or data == "":
        return []
    shown = ", ".join(str(v) for v in data) if isinstance(data, list) else str(data)
    return [(prefix.rstrip("."), shown)]


def cell(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return "" if value is None else str(value)


def _subject_path(person_id: str) -> str:
    return f"/api/subjects/{quote(person_id, safe='')}"


@router.get("/subjects")
async def subjects(request: Request, session: Dpo) -> Response:
    person_id = request.query_params.get("person_id", "").strip()
    document, problem = None, None
    if person_id:
        try:
            document = await gateway(request).get(
                session, _subject_path(person_id), "subject access request", format="json"
            )
        except GatewayProblem as refused:
            if refused.status not in (404, 422):
                raise
            lang = pages.language_of(request)
            problem = problem_view(refused.status, refused.problem, lang.gettext, ("person_id",))
    context: dict[str, Any] = {
        "person_id": person_id,
        "document": document,
        "sections": summary_of(document) if document else [],
        "cell": cell,
        "download": urlencode({"person_id": person_id}),
    }
    if problem:
        return again(request, "subjects.html", session, problem, **context)
    return pages.render(request, "subjects.html", session, problem=None, **context)


@router.get("/subjects/export.{kind}")
async def subject_export(request: Request, kind: str, session: Dpo) -> Response:
    """The export as the privacy service writes it, passed through as it arrives."""
    person_id = request.query_params.get("person_id", "").strip()
    if kind not in ("json", "pdf") or not person_id:
        return pages.render(request, "error.html", session, status=404, kind="not_found")
    media = "application/pdf" if kind == "pdf" else "application/json"
    name = SAFE_NAME.sub("_", person_id)
    answer = await _open_stream(
        request, session, _subject_path(person_id), {"format": kind}, "subject access request"
    )
    return StreamingResponse(
        answer.aiter_bytes(),
        media_type=media,
        headers={"Content-Disposition": f'attachment; filename="subject-access-{name}.{kind}"'},
        background=BackgroundTask(answer.aclose),
    )


async def _open_stream(
    request: Request, session: Session, path: str, params: Mapping[str, str], purpose: str
) -> httpx.Response:
    """A gateway answer kept open to stream its body (the gateway client reads whole bodies)."""
    gw = gateway(request)
    headers = {"authorization": f"Bearer {session.access_token}", "x-purpose": purpose}
    call = gw.client.build_request("GET", gw.base_url + path, params=dict(params), headers=headers)
    try:
        answer = await gw.client.send(call, stream=True)
    except httpx.TransportError as exc:
        raise GatewayProblem(503, {"title": "Gateway unavailable", "detail": type(exc).__name__}) from exc
    if answer.status_code < 400:
        return answer
    body = await answer.aread()
    await answer.aclose()
    if answer.status_code == 401:
        raise TokenExpired()
    try:
        problem = json.loads(body)
    except ValueError:
        problem = {"title": "Error"}
    raise GatewayProblem(answer.status_code, problem if isinstance(problem, dict) else {"title": "Error"})


# --- key access -----------------------------------------------------------------------------------


@router.get("/key-access")
async def key_access(request: Request, session: Reader) -> Response:
    caller = request.query_params.get("caller", "").strip()[:200]
    rows = await gateway(request).get(
        session, "/api/keys/access", "key access log", caller=caller or None, limit=LIMIT
    )
    return pages.render(request, "key_access.html", session, rows=rows, caller=caller, limit=LIMIT)
