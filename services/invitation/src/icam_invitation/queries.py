"""HTTP queries on the read models: invitations, helpline requests, agendas, desk visits, the funnel.

Which roles may call each route is the route table's; regions are checked here (`access`)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Query, Request

from icam_auth import Forbidden, Role
from icam_auth.fastapi import CurrentPrincipal as Staff
from icam_invitation.access import authorise_region
from icam_invitation.config import Settings
from icam_invitation.domain import INVITATION, REQUEST
from icam_invitation.domain.calendar import BRUSSELS
from icam_invitation.domain.errors import InvalidCommand
from icam_invitation.schemas import Page
from icam_kernel.application import Application
from icam_kernel.errors import NotFound
from icam_kernel.http_queries import MAX_OFFSET
from icam_kernel.inputs import Day as CalendarDay
from icam_kernel.routing import PolicyRouter

StatsReader = Staff
Limit = Annotated[int, Query(ge=1, le=500, description="Page size.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip.")]
Day = Annotated[CalendarDay, Query(description="Day in Europe/Brussels.", examples=["2026-03-11"])]
Code = Annotated[str, Query(max_length=50)]

router = PolicyRouter("invitation", tags=["queries"])
FUNNEL_DIMENSIONS = {
    "region": "region",
    "office": "office",
    "entry_channel": "entry_channel",
    "language": "language",
    "week": "sent_week",
}


def _application(request: Request) -> Application:
    application: Application = request.app.state.application
    return application


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time(0), tzinfo=BRUSSELS)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=BRUSSELS)


async def _page(request: Request, sql: str, args: list[Any], limit: int, offset: int) -> Page:
    """Run ``sql`` (rows) with a total count, one page of it."""
    async with _application(request).pool.acquire() as conn:
        total = await conn.fetchval(f"select count(*) from ({sql}) q", *args)
        rows = await conn.fetch(f"{sql} limit {limit} offset {offset}", *args)
    items = [{k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in dict(r).items()} for r in rows]
    return Page(items=items, limit=limit, offset=offset, total=int(total))


@router.get("/invitations/{invitation_id}", summary="One invitation's current state")
async def get_invitation(invitation_id: uuid.UUID, principal: Staff, request: Request) -> dict[str, Any]:
    """Folded from its stream (always current), with the stream version for the next command."""
    application = _application(request)
    async with application.pool.acquire() as conn:
        loaded = await application.load(conn, INVITATION, str(invitation_id))
    if not INVITATION.exists(loaded.state):
        raise NotFound("invitation", str(invitation_id))
    authorise_region(principal, loaded.state.region)
    return {**loaded.state.summary(), "stream_version": loaded.version}


@router.get(
    "/invitations", summary="Invitations of a household, or of the caller's region", response_model=Page
)
async def list_invitations(
    principal: Staff,
    request: Request,
    household_id: uuid.UUID | None = None,
    status: Annotated[
        str | None, Query(pattern="^(sent|confirmed|declined|cancelled|honoured|no_show)$")
    ] = None,
    region: Code | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Newest appointment first; coaches and team leads see their region's only (counts, no names)."""
    scope = principal.region if principal.role in (Role.COACH, Role.TEAM_LEAD) else region
    if region is not None and scope != region:
        raise Forbidden("the invitations of another region are not yours to see")
    sql = """select invitation_id, household_id, region, office, coach_id, entry_channel, language,
                    appointment_at, status, confirmed, reschedules, attempt, sent_at
             from invitations
             where ($1::uuid is null or household_id = $1) and ($2::text is null or status = $2)
               and ($3::text is null or region = $3)
             order by appointment_at desc, invitation_id"""
    return await _page(request, sql, [household_id, status, scope], limit, offset)


@router.get("/appointment-requests", summary="Helpline requests of the caller's region", response_model=Page)
async def list_requests(
    principal: Staff,
    request: Request,
    status: Annotated[str | None, Query(max_length=50, examples=["open"])] = "open",
    region: Code | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Oldest first, so that the longest-waiting request is answered first (counts, no names)."""
    scope = principal.region if principal.role in (Role.COACH, Role.TEAM_LEAD) else region
    if region is not None and scope != region:
        raise Forbidden("the requests of another region are not yours to see")
    sql = """select request_id, household_id, region, entry_channel, language, adults, minors, status,
                    invitation_id, received_at, closed_at
             from appointment_requests
             where ($1::text is null or status = $1) and ($2::text is null or region = $2 or region is null)
             order by received_at, request_id"""
    return await _page(request, sql, [status, scope], limit, offset)


@router.get("/appointment-requests/{request_id}", summary="One helpline request's current state")
async def get_request(request_id: uuid.UUID, principal: Staff, request: Request) -> dict[str, Any]:
    """Folded from its stream; the members' dossier references, not their personal data."""
    application = _application(request)
    async with application.pool.acquire() as conn:
        loaded = await application.load(conn, REQUEST, str(request_id))
    state = loaded.state
    if not REQUEST.exists(state):
        raise NotFound("appointment request", str(request_id))
    authorise_region(principal, state.region)
    return {
        "request_id": str(state.request_id),
        "household_id": str(state.household_id),
        "entry_channel": state.entry_channel.value,
        "language": state.language.value,
        "region": state.region,
        "members": [m.person_id for m in state.members],
        "status": state.closed.value if state.closed else "open",
        "invitation_id": str(state.invitation_id) if state.invitation_id else None,
        "stream_version": loaded.version,
    }


@router.get("/agenda/coaches/{coach_id}", summary="A coach's agenda for one day", response_model=Page)
async def coach_agenda(
    coach_id: str,
    day: Day,
    principal: Staff,
    request: Request,
    include_released: bool = False,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Booked slots (invitations, walk-in interviews): a coach sees their own, a team lead their region's."""
    if principal.role is Role.COACH and coach_id != principal.subject:
        raise Forbidden("a coach sees only their own agenda")
    start, end = _day_bounds(day)
    sql = """select s.booking_id, s.kind, s.office, s.region, s.starts_at, s.ends_at, s.active,
                    s.household_id, i.status
             from coach_slots s left join invitations i on i.invitation_id = s.booking_id
             where s.coach_id = $1 and s.starts_at < $3 and s.ends_at > $2 and (s.active or $4)
               and ($5::text is null or s.region = $5) order by s.starts_at"""
    region = principal.region if principal.role is Role.TEAM_LEAD else None
    return await _page(request, sql, [coach_id, start, end, include_released, region], limit, offset)


@router.get("/agenda/offices/{office}", summary="An office's interviews for one day", response_model=Page)
async def office_agenda(
    office: str,
    day: Day,
    principal: Staff,
    request: Request,
    status: Code | None = None,
    coach_id: Code | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Invitations with their slot at ``office`` on ``day``; filter by status or coach."""
    region = _settings(request).offices.region_of_office.get(office)
    if region is None:
        raise NotFound("office", office)
    authorise_region(principal, region)
    start, end = _day_bounds(day)
    sql = """select invitation_id, household_id, coach_id, appointment_at, status, confirmed, entry_channel,
                    language, reschedules, attempt from invitations
             where office = $1 and appointment_at >= $2 and appointment_at < $3
               and ($4::text is null or status = $4) and ($5::text is null or coach_id = $5)
             order by appointment_at, invitation_id"""
    return await _page(request, sql, [office, start, end, status, coach_id], limit, offset)


@router.get("/desks/{desk}/visits", summary="A walk-in desk's visit log for one day", response_model=Page)
async def desk_visits(
    desk: str,
    day: Day,
    principal: Staff,
    request: Request,
    outcome: Code | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """Visits in arrival order, with their outcome (counts of adults and minors, no names)."""
    settings = _settings(request)
    found = settings.desks().get(desk)
    if found is None:
        raise NotFound("walk-in desk", desk)
    authorise_region(principal, settings.offices.region_of_office.get(found.office))
    sql = """select visit_id, household_id, coach_id, language, outcome, invitation_id, adults, minors,
                    visited_at
             from desk_visits where desk = $1 and visit_day = $2 and ($3::text is null or outcome = $3)
             order by visited_at, visit_id"""
    return await _page(request, sql, [desk, day, outcome], limit, offset)


@router.get("/stats/funnel", summary="Invitation funnel counts", response_model=Page)
async def funnel(
    principal: StatsReader,
    request: Request,
    group_by: Annotated[
        str, Query(description="Comma-separated: region, office, entry_channel, language, week")
    ] = ("region,week"),
    region: Code | None = None,
    office: Code | None = None,
    entry_channel: Code | None = None,
    language: Code | None = None,
    week_from: Annotated[str | None, Query(examples=["2026-W10"])] = None,
    week_to: Annotated[str | None, Query(examples=["2026-W14"])] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page:
    """invited -> confirmed -> honoured / no-show / cancelled (and declined), by ISO week of sending.
    Counts only: no personal data, so operations viewers may read it."""
    dims = [d.strip() for d in group_by.split(",") if d.strip()]
    unknown = [d for d in dims if d not in FUNNEL_DIMENSIONS]
    if unknown:
        raise InvalidCommand(f"cannot group by {', '.join(unknown)}", "group_by")
    columns = [f"{FUNNEL_DIMENSIONS[d]} as {d}" for d in dims]
    keys = ", ".join(FUNNEL_DIMENSIONS[d] for d in dims)
    sql = f"""select {", ".join([*columns, ""])}
                count(*) as invited,
                count(*) filter (where confirmed) as confirmed,
                count(*) filter (where status = 'declined') as declined,
                count(*) filter (where status = 'honoured') as honoured,
                count(*) filter (where status = 'no_show') as no_show,
                count(*) filter (where status = 'cancelled') as cancelled
             from invitations
             where ($1::text is null or region = $1) and ($2::text is null or office = $2)
               and ($3::text is null or entry_channel = $3) and ($4::text is null or language = $4)
               and ($5::text is null or sent_week >= $5) and ($6::text is null or sent_week <= $6)
             {f"group by {keys} order by {keys}" if dims else ""}"""
    return await _page(
        request, sql, [region, office, entry_channel, language, week_from, week_to], limit, offset
    )
