"""Household changes during the trajectory: a birth or a family member arriving joins the case's
household; a member who leaves (or dies) is marked so, their record stays on the file."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from icam_web import pages
from icam_web.actions import again, command, done_url, go, text, values_of
from icam_web.deps import Coaching, Form
from icam_web.routes.case_actions import case_of
from icam_web.sessions import Session

router = APIRouter()
ADD_FIELDS = ("person_id", "role", "change", "given_name", "family_name", "birth_date", "nationality")


def member_body(form: FormData) -> dict[str, Any]:
    """The add-a-member form as the case service's body (empty fields left out)."""
    body = {name: text(form, name) for name in ADD_FIELDS}
    if body["nationality"]:
        body["nationality"] = body["nationality"].upper()
    return {k: v for k, v in body.items() if v is not None}


def _page(
    request: Request, session: Session, case: dict[str, Any], problem: Any = None, **context: Any
) -> Response:
    values = context.pop("values", {"role": "minor", "change": "birth"})
    if problem is None:
        return pages.render(
            request, "household.html", session, case=case, values=values, problem=None, failed="", **context
        )
    return again(request, "household.html", session, problem, case=case, values=values, **context)


@router.get("/cases/{case_id}/members")
async def household(request: Request, case_id: str, session: Coaching) -> Response:
    return _page(request, session, await case_of(request, session, case_id))


@router.post("/cases/{case_id}/members")
async def add_member(request: Request, case_id: str, session: Coaching, form: Form) -> Response:
    path = f"/api/cases/{case_id}/members"
    answer, problem = await command(request, session, path, member_body(form), fields=ADD_FIELDS)
    if problem:
        case = await case_of(request, session, case_id)
        return _page(request, session, case, problem, values=values_of(form), failed="add")
    assert answer is not None
    return go(
        done_url(
            f"/cases/{case_id}", "member_added", position=answer.get("position"), draft=f"member:{case_id}"
        )
    )


@router.post("/cases/{case_id}/members/{person_id}/left")
async def member_left(
    request: Request, case_id: str, person_id: str, session: Coaching, form: Form
) -> Response:
    body = {"change": text(form, "left_change") or "left"}
    path = f"/api/cases/{case_id}/members/{person_id}/left"
    answer, problem = await command(
        request,
        session,
        path,
        body,
        fields=("change", "left"),
        aliases={"change": "left", "person_id": "left"},
    )
    if problem:
        case = await case_of(request, session, case_id)
        return _page(request, session, case, problem, failed=f"left:{person_id}")
    assert answer is not None
    return go(done_url(f"/cases/{case_id}", "member_left", position=answer.get("position")))
