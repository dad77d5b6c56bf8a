"""The case's commands over HTTP: build the domain command, run it on the kernel's one path.

Every route answers 201/202 with the case's stream version and the position to pass as
`min_position` to queries; a retry with the same `Idempotency-Key` (or, for an interview, the same
`interview_id`) answers the first result again. Who may call each route comes from the route
table; whether this caller may record on this case is `access.may_record`.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from icam_auth import Principal
from icam_case import access, domain
from icam_case.config import CaseSettings
from icam_case.routes.context import CaseId, PersonIdPath, Settings
from icam_case.schemas import (
    ApprovalIn,
    AssignIn,
    CaseAccepted,
    CloseIn,
    ElementReceivedIn,
    InterviewIn,
    MemberIn,
    MemberLeftIn,
    OutcomeIn,
    ResumeIn,
    SendBackIn,
    SuspendIn,
    TransferIn,
    VulnerabilityIn,
)
from icam_contracts.enums import ActorRole
from icam_kernel.http_commands import Command
from icam_kernel.routing import PolicyRouter

router = PolicyRouter("case")


def decider_for(principal: Principal, settings: CaseSettings) -> domain.Decider:
    """The provenance of a decision taken by `principal` under the configured legal basis and policy."""
    role = ActorRole.TEAM_LEAD if principal.role.value == "team_lead" else ActorRole.COACH
    return domain.Decider(principal.subject, role, settings.legal_basis, settings.policy_version)


def _interview_command(body: InterviewIn, interview_id: uuid.UUID) -> domain.RecordInterview:
    return domain.RecordInterview(
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


@router.post(
    "/cases/{case_id}/interviews", status_code=201, summary="Record an interview held with the household"
)
async def record_interview(case_id: CaseId, body: InterviewIn, command: Command) -> CaseAccepted:
    interview_id = body.interview_id or uuid.uuid4()
    cmd = _interview_command(body, interview_id)
    coach, now = command.principal.subject, datetime.now(UTC)
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.record_interview(case, cmd, coach_id=coach, now=now),
        authorize=access.may_record,
        body=body,
        client_id=("interview_id", body.interview_id),
        occurred_at=body.occurred_at,
        created_id=str(interview_id),
    )
    return CaseAccepted.of(result)


@router.post(
    "/cases/{case_id}/dossier-elements/{element_id}/received",
    status_code=202,
    summary="Record that a requested element of the file came in",
)
async def element_received(
    case_id: CaseId, element_id: uuid.UUID, command: Command, body: ElementReceivedIn | None = None
) -> CaseAccepted:
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.receive_element(case, element_id),
        authorize=access.may_record,
        body=body,
        occurred_at=body.received_at if body else None,
    )
    return CaseAccepted.of(result)


@router.post("/cases/{case_id}/vulnerabilities", status_code=201, summary="Flag a member's vulnerability")
async def flag_vulnerability(case_id: CaseId, body: VulnerabilityIn, command: Command) -> CaseAccepted:
    categories = tuple(dict.fromkeys(body.categories))
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.flag_vulnerability(case, body.person_id, categories, body.details),
        authorize=access.may_record,
        body=body,
    )
    return CaseAccepted.of(result)


@router.post(
    "/cases/{case_id}/outcome",
    status_code=201,
    summary="Decide the outcome (A, B or C), or revise the current decision",
)
async def decide_outcome(
    case_id: CaseId, body: OutcomeIn, command: Command, settings: Settings
) -> CaseAccepted:
    if body.preferred_partner and settings.reference.partner(body.preferred_partner) is None:
        raise domain.CaseRuleViolation(
            f"unknown return partner {body.preferred_partner!r}", field="preferred_partner"
        )
    decision_id = uuid.uuid4()
    cmd = domain.DecideOutcome(decision_id=decision_id, **body.model_dump(exclude={"expected_version"}))
    decider, gate = decider_for(command.principal, settings), settings.needs_approval
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.decide_outcome(case, cmd, decider=decider, needs_approval=gate),
        authorize=access.may_record,
        body=body,
        expected_version=body.expected_version,
        created_id=str(decision_id),
    )
    return CaseAccepted.of(result)


@router.post("/cases/{case_id}/suspend", status_code=202, summary="Suspend the trajectory")
async def suspend(case_id: CaseId, body: SuspendIn, command: Command, settings: Settings) -> CaseAccepted:
    decider, today = decider_for(command.principal, settings), datetime.now(UTC).date()
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.suspend(
            case, body.reason, decider=decider, review_on=body.review_on, today=today
        ),
        authorize=access.may_record,
        body=body,
    )
    return CaseAccepted.of(result)


@router.post("/cases/{case_id}/resume", status_code=202, summary="Resume a suspended trajectory")
async def resume(
    case_id: CaseId, command: Command, settings: Settings, body: ResumeIn | None = None
) -> CaseAccepted:
    decider, note = decider_for(command.principal, settings), body.note if body else None
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.resume(case, note=note, decider=decider),
        authorize=access.may_record,
        body=body,
    )
    return CaseAccepted.of(result)


@router.post("/cases/{case_id}/close", status_code=202, summary="Close the trajectory, with a reason")
async def close(case_id: CaseId, body: CloseIn, command: Command, settings: Settings) -> CaseAccepted:
    decider = decider_for(command.principal, settings)
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.close(case, body.reason, body.reason_text, decider=decider),
        authorize=access.may_record,
        body=body,
    )
    return CaseAccepted.of(result)


@router.post("/cases/{case_id}/assign", status_code=202, summary="Reassign the case to a coach (team lead)")
async def assign(case_id: CaseId, body: AssignIn, command: Command) -> CaseAccepted:
    lead = command.principal.subject
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.assign_coach(case, body.coach_id, assigned_by=lead),
        authorize=access.may_reassign,
        body=body,
    )
    return CaseAccepted.of(result)


@router.post(
    "/cases/{case_id}/transfer", status_code=202, summary="Transfer the case to another region (team lead)"
)
async def transfer(case_id: CaseId, body: TransferIn, command: Command, settings: Settings) -> CaseAccepted:
    offices = {o.code for o in settings.reference.offices_in(body.to_region)}
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.transfer(
            case, body.to_region, body.to_office, body.reason, offices_of_region=offices
        ),
        authorize=access.may_reassign,
        body=body,
    )
    return CaseAccepted.of(result)


@router.post(
    "/cases/{case_id}/outcome/{decision_id}/approve",
    status_code=202,
    summary="Approve a proposed outcome (team lead; not the one who proposed it)",
)
async def approve_outcome(
    case_id: CaseId,
    decision_id: uuid.UUID,
    command: Command,
    settings: Settings,
    body: ApprovalIn | None = None,
) -> CaseAccepted:
    approver = decider_for(command.principal, settings)
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.approve_outcome(case, decision_id, approver=approver),
        authorize=access.may_approve,
        body=body,
        created_id=str(decision_id),
    )
    return CaseAccepted.of(result)


@router.post(
    "/cases/{case_id}/outcome/{decision_id}/reject",
    status_code=202,
    summary="Send a proposed outcome back, with a reason (team lead)",
)
async def reject_outcome(
    case_id: CaseId, decision_id: uuid.UUID, body: SendBackIn, command: Command, settings: Settings
) -> CaseAccepted:
    approver = decider_for(command.principal, settings)
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.reject_proposal(case, decision_id, body.reason, approver=approver),
        authorize=access.may_approve,
        body=body,
    )
    return CaseAccepted.of(result)


@router.post("/cases/{case_id}/members", status_code=201, summary="A member joins the household (a birth)")
async def add_member(case_id: CaseId, body: MemberIn, command: Command) -> CaseAccepted:
    member = body.personal_data()
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.add_member(case, member, body.change),
        authorize=access.may_record,
        body=body,
        client_id=("person_id", f"{case_id}/{body.person_id}"),
        created_id=body.person_id,
    )
    return CaseAccepted.of(result)


@router.post(
    "/cases/{case_id}/members/{person_id}/left", status_code=202, summary="A member left the household"
)
async def member_left(
    case_id: CaseId, person_id: PersonIdPath, body: MemberLeftIn, command: Command
) -> CaseAccepted:
    result = await command.execute(
        domain.CASE,
        str(case_id),
        lambda case: domain.member_left(case, person_id, body.change),
        authorize=access.may_record,
        body=body,
    )
    return CaseAccepted.of(result)
