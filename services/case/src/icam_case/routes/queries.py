"""The case's queries: a case (now or as it stood), its timeline, caseloads, outcome statistics."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from icam_auth import Role
from icam_auth.fastapi import CurrentPrincipal
from icam_case import access, domain, queries
from icam_case.projections import CaseloadProjection
from icam_case.routes.context import App, CaseId, MinPosition, Settings
from icam_case.schemas import CaseloadItem, CaseView, CoachWorkload, Page, StatsRow, TaskItem, TimelineEntry
from icam_kernel.errors import NotFound
from icam_kernel.http_queries import Limit, Offset
from icam_kernel.inputs import Day, Moment
from icam_kernel.projections import wait_for_checkpoint
from icam_kernel.routing import PolicyRouter

router = PolicyRouter("case")


async def _wait(app: App, settings: Settings, position: int | None) -> None:
    if position is not None:
        await wait_for_checkpoint(
            app.pool, CaseloadProjection.name, position, timeout=settings.read_your_writes_timeout
        )


@router.get("/cases/{case_id}", summary="The case as it stands, or as it stood at `as_of`")
async def get_case(
    case_id: CaseId,
    who: CurrentPrincipal,
    app: App,
    settings: Settings,
    as_of: Annotated[Moment | None, Query(description="What was known at this time (recorded time).")] = None,
    min_position: MinPosition = None,
) -> CaseView:
    await _wait(app, settings, min_position)
    async with app.pool.acquire() as conn:
        current = await app.load(conn, domain.CASE, str(case_id))
        then = await app.load(conn, domain.CASE, str(case_id), as_of=as_of) if as_of else current
    if not current.state.exists:
        raise NotFound("case", str(case_id))
    access.may_read(who, current.state)
    if not then.state.exists:
        raise NotFound("case as of", f"{case_id}@{as_of.isoformat() if as_of else ''}")
    return queries.case_view(then.state, who, as_of)


@router.get("/cases/{case_id}/timeline", summary="Every event of the case, in order, in plain words")
async def get_timeline(
    case_id: CaseId,
    who: CurrentPrincipal,
    app: App,
    settings: Settings,
    limit: Limit = 50,
    offset: Offset = 0,
    min_position: MinPosition = None,
) -> Page[TimelineEntry]:
    await _wait(app, settings, min_position)
    async with app.pool.acquire() as conn:
        case = (await app.load(conn, domain.CASE, str(case_id))).state
        if not case.exists:
            raise NotFound("case", str(case_id))
        access.may_read(who, case)
        return await queries.timeline(conn, case_id, limit=limit, offset=offset)


@router.get("/caseload", summary="Cases of a region or coach, filtered, soonest interview first")
async def get_caseload(
    who: CurrentPrincipal,
    app: App,
    settings: Settings,
    coach: Annotated[str | None, Query(max_length=200)] = None,
    region: Annotated[str | None, Query(max_length=50)] = None,
    status: Annotated[str | None, Query(pattern="^(open|contact_lost|suspended|closed)$")] = None,
    due_before: Annotated[Moment | None, Query(description="Next interview due at or before.")] = None,
    flag: Annotated[str | None, Query(max_length=50, examples=["vulnerable"])] = None,
    q: Annotated[
        str | None, Query(min_length=2, max_length=100, description="A name or dossier reference.")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    min_position: MinPosition = None,
) -> Page[CaseloadItem]:
    scope = access.caseload_scope(who, region)
    await _wait(app, settings, min_position)
    async with app.pool.acquire() as conn:
        return await queries.caseload(
            conn,
            region=scope,
            coach=coach,
            status=status,
            due_before=due_before,
            flag=flag,
            q=q,
            limit=limit,
            offset=offset,
        )


@router.get(
    "/stats/outcomes", summary="Outcome mix, suspensions and closures by reason, per region and month"
)
async def get_stats(
    who: CurrentPrincipal,
    app: App,
    settings: Settings,
    region: Annotated[str | None, Query(max_length=50)] = None,
    since: Annotated[Day | None, Query(description="First month (any day in it).")] = None,
    until: Annotated[Day | None, Query(description="Last month (any day in it).")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    min_position: MinPosition = None,
) -> Page[StatsRow]:
    await _wait(app, settings, min_position)
    first = since.replace(day=1) if since else None
    last = until.replace(day=1) if until else None
    async with app.pool.acquire() as conn:
        return await queries.outcome_stats(
            conn, region=region, since=first, until=last, limit=limit, offset=offset
        )


@router.get("/tasks", summary="What needs doing: a coach's tasks, or a region's, the most overdue first")
async def get_tasks(
    who: CurrentPrincipal,
    app: App,
    coach: Annotated[str | None, Query(max_length=200)] = None,
    region: Annotated[str | None, Query(max_length=50)] = None,
    overdue: Annotated[bool, Query(description="Only the tasks whose moment has passed.")] = False,
    kind: Annotated[str | None, Query(max_length=50, examples=["element_overdue"])] = None,
    for_team_lead: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[TaskItem]:
    """A coach sees their own cases' tasks; a team lead the region's (and approvals awaiting them)."""
    scope = access.caseload_scope(who, region)
    mine = who.subject if who.role is Role.COACH else coach
    async with app.pool.acquire() as conn:
        return await queries.tasks(
            conn,
            region=scope,
            coach=mine,
            overdue_only=overdue,
            kind=kind,
            for_team_lead=for_team_lead,
            limit=limit,
            offset=offset,
        )


@router.get("/tasks/overdue-by-coach", summary="A region's overdue tasks per coach (team lead)")
async def get_overdue_by_coach(
    who: CurrentPrincipal, app: App, region: Annotated[str | None, Query(max_length=50)] = None
) -> list[CoachWorkload]:
    scope = access.caseload_scope(who, region)
    async with app.pool.acquire() as conn:
        return await queries.overdue_by_coach(conn, scope)
