"""HTTP routes: commands answer 201/202 with the case's stream version and position; queries read models.

Routes only translate: authenticate, build the domain command, call the handler.
"""

import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query

from icam_auth import Principal, TokenVerifier
from icam_case import access, domain, queries
from icam_case.codec import load_case
from icam_case.commands import CaseCommands, CommandResult, decider_for
from icam_case.config import CaseSettings
from icam_case.projections import CaseloadProjection
from icam_case.schemas import (
    AssignIn,
    CaseloadItem,
    CaseView,
    CloseIn,
    CommandAccepted,
    ElementReceivedIn,
    InterviewIn,
    OutcomeIn,
    Page,
    ResumeIn,
    StatsRow,
    SuspendIn,
    TimelineEntry,
    TransferIn,
    VulnerabilityIn,
)
from icam_case.service import CaseService
from icam_kernel.errors import NotFound
from icam_kernel.projections import wait_for_checkpoint

CaseId = Annotated[
    uuid.UUID, Path(description="The case.", examples=["9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d"])
]
MinPosition = Annotated[
    int | None,
    Query(ge=1, description="Wait until the read model reflects this position (read-your-writes)."),
]
Correlation = Annotated[
    str | None, Header(alias="X-Correlation-ID", description="The household journey's id.")
]


def _accepted(result: CommandResult, created: uuid.UUID | None = None) -> CommandAccepted:
    return CommandAccepted(
        case_id=result.case_id,
        stream_version=result.stream_version,
        position=result.position,
        events=list(result.events),
        id=created,
    )


def build_router(service: CaseService, verifier: TokenVerifier) -> APIRouter:
    """The case service's routes, bound to its runtime and token verifier."""
    router = APIRouter()

    # dependencies are async: FastAPI runs a sync one in its thread pool, a hop per request
    async def current(
        authorization: Annotated[str | None, Header(description="Bearer <JWT>")] = None,
    ) -> Principal:
        return verifier.from_header(authorization)

    Caller = Annotated[Principal, Depends(current)]
    settings: CaseSettings = service.settings

    def commands() -> CaseCommands:
        return service.commands

    def now() -> datetime:
        return datetime.now(UTC)

    async def run(
        case_id: uuid.UUID,
        who: Principal,
        decide: Callable[[domain.Case], list],  # type: ignore[type-arg]
        authorize: Callable[[Principal, domain.Case], None] = access.may_record,
        **options: object,
    ) -> CommandResult:
        return await commands().execute(case_id, who, authorize, decide, **options)  # type: ignore[arg-type]

    @router.post(
        "/cases/{case_id}/interviews", status_code=201, summary="Record an interview held with the household"
    )
    async def record_interview(
        case_id: CaseId, body: InterviewIn, who: Caller, correlation: Correlation = None
    ) -> CommandAccepted:
        interview_id = body.interview_id or uuid.uuid4()
        cmd = domain.RecordInterview(
            interview_id=interview_id,
            held_at=body.occurred_at,
            kind=body.kind,
            language=body.language,
            attendees=tuple(body.attendees),
            interpreter_present=body.interpreter_present,
            interpreter_language=body.interpreter_language,
            topics=tuple(body.topics),
            notes=body.notes,
            duration_minutes=body.duration_minutes,
            invitation_id=body.invitation_id,
            office=body.office,
            missing_elements=tuple(
                domain.MissingElement(uuid.uuid4(), m.person_id, m.element, m.description, m.due_on)
                for m in body.missing_elements
            ),
        )
        result = await run(
            case_id,
            who,
            lambda case: domain.record_interview(case, cmd, coach_id=who.subject, now=now()),
            occurred_at=body.occurred_at,
            correlation_id=correlation,
        )
        return _accepted(result, interview_id)

    @router.post(
        "/cases/{case_id}/dossier-elements/{element_id}/received",
        status_code=202,
        summary="Record that a requested element of the file came in",
    )
    async def element_received(
        case_id: CaseId, element_id: uuid.UUID, who: Caller, body: ElementReceivedIn | None = None
    ) -> CommandAccepted:
        at = body.received_at if body and body.received_at else None
        result = await run(
            case_id, who, lambda case: domain.receive_element(case, element_id), occurred_at=at
        )
        return _accepted(result)

    @router.post("/cases/{case_id}/vulnerabilities", status_code=201, summary="Flag a member's vulnerability")
    async def flag_vulnerability(case_id: CaseId, body: VulnerabilityIn, who: Caller) -> CommandAccepted:
        categories = tuple(dict.fromkeys(body.categories))
        result = await run(
            case_id,
            who,
            lambda case: domain.flag_vulnerability(case, body.person_id, categories, body.details),
        )
        return _accepted(result)

    @router.post(
        "/cases/{case_id}/outcome",
        status_code=201,
        summary="Decide the outcome (A, B or C), or revise the current decision",
    )
    async def decide_outcome(
        case_id: CaseId, body: OutcomeIn, who: Caller, correlation: Correlation = None
    ) -> CommandAccepted:
        if body.preferred_partner and settings.reference.partner(body.preferred_partner) is None:
            raise domain.CaseRuleViolation(
                f"unknown return partner {body.preferred_partner!r}", field="preferred_partner"
            )
        decision_id = uuid.uuid4()
        cmd = domain.DecideOutcome(
            decision_id=decision_id,
            **body.model_dump(exclude={"expected_version"}),
        )
        result = await run(
            case_id,
            who,
            lambda case: domain.decide_outcome(case, cmd, decider=decider_for(who, settings)),
            expected_version=body.expected_version,
            correlation_id=correlation,
        )
        return _accepted(result, decision_id)

    @router.post("/cases/{case_id}/suspend", status_code=202, summary="Suspend the trajectory")
    async def suspend(case_id: CaseId, body: SuspendIn, who: Caller) -> CommandAccepted:
        decider = decider_for(who, settings)
        return _accepted(
            await run(case_id, who, lambda case: domain.suspend(case, body.reason, decider=decider))
        )

    @router.post("/cases/{case_id}/resume", status_code=202, summary="Resume a suspended trajectory")
    async def resume(case_id: CaseId, who: Caller, body: ResumeIn | None = None) -> CommandAccepted:
        decider, note = decider_for(who, settings), body.note if body else None
        return _accepted(
            await run(case_id, who, lambda case: domain.resume(case, note=note, decider=decider))
        )

    @router.post("/cases/{case_id}/close", status_code=202, summary="Close the trajectory, with a reason")
    async def close(case_id: CaseId, body: CloseIn, who: Caller) -> CommandAccepted:
        decider = decider_for(who, settings)
        return _accepted(
            await run(
                case_id, who, lambda case: domain.close(case, body.reason, body.reason_text, decider=decider)
            )
        )

    @router.post(
        "/cases/{case_id}/assign", status_code=202, summary="Reassign the case to a coach (team lead)"
    )
    async def assign(case_id: CaseId, body: AssignIn, who: Caller) -> CommandAccepted:
        result = await run(
            case_id,
            who,
            lambda case: domain.assign_coach(case, body.coach_id, assigned_by=who.subject),
            authorize=access.may_reassign,
        )
        return _accepted(result)

    @router.post(
        "/cases/{case_id}/transfer",
        status_code=202,
        summary="Transfer the case to another region (team lead)",
    )
    async def transfer(case_id: CaseId, body: TransferIn, who: Caller) -> CommandAccepted:
        offices = {o.code for o in settings.reference.offices_in(body.to_region)}
        result = await run(
            case_id,
            who,
            lambda case: domain.transfer(
                case, body.to_region, body.to_office, body.reason, offices_of_region=offices
            ),
            authorize=access.may_reassign,
        )
        return _accepted(result)

    @router.get("/cases/{case_id}", summary="The case as it stands, or as it stood at `as_of`")
    async def get_case(
        case_id: CaseId,
        who: Caller,
        as_of: Annotated[
            datetime | None, Query(description="What was known at this time (recorded time).")
        ] = None,
        min_position: MinPosition = None,
    ) -> CaseView:
        await _wait(min_position)
        async with service.pool.acquire() as conn:
            current = await load_case(service.store, conn, case_id)
            case = await load_case(service.store, conn, case_id, as_of=as_of) if as_of else current
        if not current.exists:
            raise NotFound("case", str(case_id))
        access.may_read(who, current)
        if not case.exists:
            raise NotFound("case as of", f"{case_id}@{as_of.isoformat() if as_of else ''}")
        return queries.case_view(case, who, as_of)

    @router.get("/cases/{case_id}/timeline", summary="Every event of the case, in order, in plain words")
    async def get_timeline(
        case_id: CaseId,
        who: Caller,
        limit: Annotated[int, Query(ge=1, le=settings.max_page_size)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        min_position: MinPosition = None,
    ) -> Page[TimelineEntry]:
        await _wait(min_position)
        async with service.pool.acquire() as conn:
            case = await load_case(service.store, conn, case_id)
            if not case.exists:
                raise NotFound("case", str(case_id))
            access.may_read(who, case)
            return await queries.timeline(conn, case_id, limit=limit, offset=offset)

    @router.get("/caseload", summary="Cases of a region or coach, filtered, soonest interview first")
    async def get_caseload(
        who: Caller,
        coach: str | None = None,
        region: str | None = None,
        status: Annotated[str | None, Query(pattern="^(open|contact_lost|suspended|closed)$")] = None,
        due_before: Annotated[datetime | None, Query(description="Next interview due at or before.")] = None,
        flag: Annotated[str | None, Query(examples=["vulnerable"])] = None,
        limit: Annotated[int, Query(ge=1, le=settings.max_page_size)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        min_position: MinPosition = None,
    ) -> Page[CaseloadItem]:
        scope = access.caseload_scope(who, region)
        await _wait(min_position)
        async with service.pool.acquire() as conn:
            return await queries.caseload(
                conn,
                region=scope,
                coach=coach,
                status=status,
                due_before=due_before,
                flag=flag,
                limit=limit,
                offset=offset,
            )

    @router.get(
        "/stats/outcomes", summary="Outcome mix, suspensions and closures by reason, per region and month"
    )
    async def get_stats(
        who: Caller,
        region: str | None = None,
        since: Annotated[date | None, Query(description="First month (any day in it).")] = None,
        until: Annotated[date | None, Query(description="Last month (any day in it).")] = None,
        limit: Annotated[int, Query(ge=1, le=settings.max_page_size)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
        min_position: MinPosition = None,
    ) -> Page[StatsRow]:
        access.may_read_stats(who)
        await _wait(min_position)
        first = since.replace(day=1) if since else None
        last = until.replace(day=1) if until else None
        async with service.pool.acquire() as conn:
            return await queries.outcome_stats(
                conn, region=region, since=first, until=last, limit=limit, offset=offset
            )

    async def _wait(position: int | None) -> None:
        if position is not None:
            await wait_for_checkpoint(
                service.pool, CaseloadProjection.name, position, timeout=settings.read_your_writes_timeout
            )

    return router
