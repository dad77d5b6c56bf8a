"""HTTP routes: partner actions (202 with the referral's version) and queries on the read model.

Every command runs on the kernel's one path. Which roles may call each route comes from the route
table; here: partners see and act on their own referrals only (someone else's looks
non-existent: 404), coaches and team leads read the referrals of their region, operations counts.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request

from icam_auth import Forbidden, Role
from icam_auth.fastapi import CurrentPrincipal
from icam_kernel.application import CommandResult
from icam_kernel.errors import NotFound
from icam_kernel.http_commands import Command
from icam_kernel.http_queries import App, Limit, Offset, settings_of
from icam_kernel.routing import PolicyRouter
from icam_referral import access, domain, queries
from icam_referral.config import ReferralSettings
from icam_referral.domain import REFERRAL
from icam_referral.http_models import (
    Acknowledge,
    Departure,
    Inbox,
    InboxItem,
    PartnerOut,
    Pipeline,
    ReferralAccepted,
    ReferralOut,
    Reject,
    Withdrawal,
)
from icam_referral.referrals import NOT_MADE, ReferralLifecycle, after_rejection

router = PolicyRouter("referral", tags=["referrals"])
MONTH = r"^\d{4}-\d{2}$"


async def _lifecycle(request: Request) -> ReferralLifecycle:
    lifecycle: ReferralLifecycle = request.app.state.lifecycle
    return lifecycle


Settings = Annotated[ReferralSettings, Depends(settings_of)]
Lifecycle = Annotated[ReferralLifecycle, Depends(_lifecycle)]
Code = Annotated[str | None, Query(max_length=50)]


def _accepted(result: CommandResult) -> ReferralAccepted:
    return ReferralAccepted(**ReferralAccepted.fields_of(result), referral_id=UUID(result.stream_id))


@router.get("/partners", summary="The return partner catalogue", response_model=list[PartnerOut])
async def list_partners(settings: Settings, _: CurrentPrincipal) -> list[PartnerOut]:
    """Every partner referrals can go to, with role, regions, languages and deadline."""
    return [
        PartnerOut(**{**asdict(p), "roles": [str(r) for r in p.roles], "languages": list(p.languages)})
        for p in settings.catalogue.partners
    ]


@router.get(
    "/partners/{code}/inbox", summary="A partner's open referrals, oldest first", response_model=Inbox
)
async def partner_inbox(
    code: str,
    settings: Settings,
    app: App,
    principal: CurrentPrincipal,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Inbox:
    """Referred and acknowledged referrals of partner `code`, with their deadline status."""
    if settings.catalogue.get(code) is None:
        raise NotFound("partner", code)
    if not (principal.acts_for(code) or principal.role is Role.ADMIN):
        raise Forbidden("a partner sees its own inbox only")
    async with app.pool.acquire() as conn:
        items, total = await queries.inbox(
            conn, code, limit=limit, offset=offset, now=settings.clock(), due_soon=settings.due_soon
        )
    return Inbox(partner=code, total=total, limit=limit, offset=offset, items=[InboxItem(**i) for i in items])


@router.get("/referrals", summary="The referrals of a case, newest first")
async def referrals_of_case(case_id: UUID, app: App, principal: CurrentPrincipal) -> list[ReferralOut]:
    """Every referral made for the case (one per partner asked), for its region's coaches and team lead."""
    async with app.pool.acquire() as conn:
        found = await queries.referrals_of_case(conn, case_id)
    for referral in found:
        access.may_read(principal, referral["region"], referral["partner"])
    return [ReferralOut(**r) for r in found]


@router.get("/referrals/{referral_id}", summary="One referral, with the data the partner needs")
async def get_referral(referral_id: UUID, app: App, principal: CurrentPrincipal) -> ReferralOut:
    """Partners read their own referrals; coaches and team leads those of their region; admins all."""
    async with app.pool.acquire() as conn:
        found = await queries.referral(conn, referral_id)
    if found is None:
        raise NotFound("referral", str(referral_id))
    try:
        access.may_read(principal, found["region"], found["partner"])
    except NotFound:
        raise NotFound("referral", str(referral_id)) from None
    return ReferralOut(**found)


@router.post(
    "/referrals/{referral_id}/acknowledge", summary="The partner takes the referral on", status_code=202
)
async def acknowledge(referral_id: UUID, body: Acknowledge, command: Command) -> ReferralAccepted:
    """Records `ReferralAcknowledged`; the deadline timer stops."""
    result = await command.execute(
        REFERRAL,
        str(referral_id),
        lambda state: domain.acknowledge(state, partner_reference=body.partner_reference),
        authorize=access.authorise,
        body=body,
        expected_version=body.expected_version,
    )
    return _accepted(result)


@router.post("/referrals/{referral_id}/reject", summary="The partner declines the referral", status_code=202)
async def reject(referral_id: UUID, body: Reject, command: Command, lifecycle: Lifecycle) -> ReferralAccepted:
    """Records `ReferralRejected`, then refers to the next suitable partner or tells the case none is left."""
    result = await command.execute(
        REFERRAL,
        str(referral_id),
        lambda state: lifecycle.reject(state, body.reason),
        authorize=access.authorise,
        body=body,
        expected_version=body.expected_version,
        summarize=after_rejection,
        extends=NOT_MADE,
    )
    return _accepted(result)


@router.post(
    "/referrals/{referral_id}/departure", summary="The household left: return completed", status_code=202
)
async def record_departure(
    referral_id: UUID, body: Departure, command: Command, settings: Settings
) -> ReferralAccepted:
    """Records `VoluntaryReturnCompleted` with the date, destination and reintegration support."""
    today: date = settings.clock().astimezone(settings.calendar.timezone).date()
    result = await command.execute(
        REFERRAL,
        str(referral_id),
        lambda state: domain.record_departure(
            state,
            departed_on=body.departed_on,
            destination_country=body.destination_country,
            reintegration_support=body.reintegration_support,
            person_ids=body.person_ids,
            today=today,
        ),
        authorize=access.authorise,
        body=body,
        expected_version=body.expected_version,
    )
    return _accepted(result)


@router.post("/referrals/{referral_id}/withdrawal", summary="The person withdrew", status_code=202)
async def record_withdrawal(
    referral_id: UUID, body: Withdrawal, command: Command, app: App
) -> ReferralAccepted:
    """Records `ReferralWithdrawn`; by the partner, or by the case's coach or a team lead of the region."""
    async with app.pool.acquire() as conn:
        coach = await queries.coach_of_referral(conn, referral_id)
    result = await command.execute(
        REFERRAL,
        str(referral_id),
        lambda state: domain.withdraw(state, reason=body.reason, reason_text=body.reason_text),
        authorize=lambda principal, state: access.authorise(principal, state, coaches_too=True, coach=coach),
        body=body,
        expected_version=body.expected_version,
    )
    return _accepted(result)


@router.get("/stats/pipeline", summary="Referral pipeline: counts by partner, region and month")
async def pipeline(
    app: App,
    _: CurrentPrincipal,
    partner: Code = None,
    region: Code = None,
    month_from: Annotated[str | None, Query(pattern=MONTH, examples=["2026-01"])] = None,
    month_to: Annotated[str | None, Query(pattern=MONTH, examples=["2026-12"])] = None,
) -> Pipeline:
    """Referred → acknowledged → departed / withdrawn / rejected, with average times; counts only."""
    where = queries.PipelineFilter(partner=partner, region=region, month_from=month_from, month_to=month_to)
    async with app.pool.acquire() as conn:
        return Pipeline.model_validate(await queries.pipeline(conn, where))
