"""HTTP routes: partner actions (202 with the referral's version) and queries on the read model.

Authorisation is checked again here after the gateway: partners see and act on their own
referrals only (someone else's looks non-existent: 404), coaches and team leads read referrals
of their region, operations see counts only.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request

from icam_auth import Forbidden, Principal, Role
from icam_auth.fastapi import CurrentPrincipal, roles
from icam_kernel.errors import NotFound
from icam_referral import queries
from icam_referral.commands import CommandResult, PartnerCommands, Pool
from icam_referral.config import ReferralSettings
from icam_referral.http_models import (
    Acknowledge,
    CommandAccepted,
    Departure,
    Inbox,
    InboxItem,
    PartnerOut,
    Pipeline,
    ReferralOut,
    Reject,
    Withdrawal,
)
from icam_referral.referrals import Referrals

router = APIRouter(tags=["referrals"])
MONTH = r"^\d{4}-\d{2}$"


@dataclass
class Context:
    """What the routes need, built by the composition root."""

    settings: ReferralSettings
    referrals: Referrals
    pool: Pool


async def context(request: Request) -> Context:
    """The service context of the running app."""
    ctx: Context = request.app.state.referral
    return ctx


Ctx = Annotated[Context, Depends(context)]
Partner = Annotated[Principal, Depends(roles(Role.RETURN_PARTNER))]
PartnerOrCoach = Annotated[Principal, Depends(roles(Role.RETURN_PARTNER, Role.COACH, Role.TEAM_LEAD))]
StatsReader = Annotated[Principal, Depends(roles(Role.OPS_VIEWER, Role.TEAM_LEAD, Role.AUDITOR, Role.ADMIN))]


def _accepted(result: CommandResult) -> CommandAccepted:
    return CommandAccepted(**{**asdict(result), "events": list(result.events)})


@router.get("/partners", summary="The return partner catalogue", response_model=list[PartnerOut])
async def list_partners(ctx: Ctx, _: CurrentPrincipal) -> list[PartnerOut]:
    """Every partner referrals can go to, with role, regions, languages and deadline."""
    return [
        PartnerOut(**{**asdict(p), "roles": [str(r) for r in p.roles], "languages": list(p.languages)})
        for p in ctx.settings.catalogue.partners
    ]


@router.get(
    "/partners/{code}/inbox", summary="A partner's open referrals, oldest first", response_model=Inbox
)
async def partner_inbox(
    code: str,
    ctx: Ctx,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> Inbox:
    """Referred and acknowledged referrals of partner `code`, with their deadline status."""
    if ctx.settings.catalogue.get(code) is None:
        raise NotFound("partner", code)
    if not (principal.acts_for(code) or principal.role is Role.ADMIN):
        raise Forbidden("a partner sees its own inbox only")
    async with ctx.pool.acquire() as conn:
        items, total = await queries.inbox(
            conn, code, limit=limit, offset=offset, now=ctx.settings.clock(), due_soon=ctx.settings.due_soon
        )
    return Inbox(partner=code, total=total, limit=limit, offset=offset, items=[InboxItem(**i) for i in items])


@router.get("/referrals/{referral_id}", summary="One referral, with the data the partner needs")
async def get_referral(referral_id: UUID, ctx: Ctx, principal: CurrentPrincipal) -> ReferralOut:
    """Partners read their own referrals; coaches and team leads those of their region; admins all."""
    async with ctx.pool.acquire() as conn:
        found = await queries.referral(conn, referral_id)
    if found is None or (principal.role is Role.RETURN_PARTNER and not principal.acts_for(found["partner"])):
        raise NotFound("referral", str(referral_id))
    allowed = principal.role in (Role.RETURN_PARTNER, Role.ADMIN) or (
        principal.role in (Role.COACH, Role.TEAM_LEAD) and principal.works_in(found["region"] or "")
    )
    if not allowed:
        raise Forbidden(f"role {principal.role.value} may not read referrals")
    return ReferralOut(**found)


@router.post(
    "/referrals/{referral_id}/acknowledge",
    summary="The partner takes the referral on",
    status_code=202,
    response_model=CommandAccepted,
)
async def acknowledge(referral_id: UUID, body: Acknowledge, ctx: Ctx, partner: Partner) -> CommandAccepted:
    """Records `ReferralAcknowledged`; the deadline timer stops."""
    commands = PartnerCommands(ctx.pool, ctx.referrals)
    return _accepted(
        await commands.acknowledge(
            referral_id,
            partner,
            partner_reference=body.partner_reference,
            expected_version=body.expected_version,
        )
    )


@router.post(
    "/referrals/{referral_id}/reject",
    summary="The partner declines the referral",
    status_code=202,
    response_model=CommandAccepted,
)
async def reject(referral_id: UUID, body: Reject, ctx: Ctx, partner: Partner) -> CommandAccepted:
    """Records `ReferralRejected`, then refers to the next suitable partner or tells the case none is left."""
    commands = PartnerCommands(ctx.pool, ctx.referrals)
    return _accepted(
        await commands.reject(
            referral_id, partner, reason=body.reason, expected_version=body.expected_version
        )
    )


@router.post(
    "/referrals/{referral_id}/departure",
    summary="The household left: return completed",
    status_code=202,
    response_model=CommandAccepted,
)
async def record_departure(referral_id: UUID, body: Departure, ctx: Ctx, partner: Partner) -> CommandAccepted:
    """Records `VoluntaryReturnCompleted` with the date, destination and reintegration support."""
    commands = PartnerCommands(ctx.pool, ctx.referrals)
    result = await commands.record_departure(
        referral_id,
        partner,
        departed_on=body.departed_on,
        destination_country=body.destination_country,
        reintegration_support=body.reintegration_support,
        person_ids=body.person_ids,
        expected_version=body.expected_version,
    )
    return _accepted(result)


@router.post(
    "/referrals/{referral_id}/withdrawal",
    summary="The person withdrew",
    status_code=202,
    response_model=CommandAccepted,
)
async def record_withdrawal(
    referral_id: UUID, body: Withdrawal, ctx: Ctx, principal: PartnerOrCoach
) -> CommandAccepted:
    """Records `ReferralWithdrawn`; by the partner, or by a coach or team lead of the region."""
    commands = PartnerCommands(ctx.pool, ctx.referrals)
    result = await commands.record_withdrawal(
        referral_id,
        principal,
        reason=body.reason,
        reason_text=body.reason_text,
        expected_version=body.expected_version,
    )
    return _accepted(result)


@router.get("/stats/pipeline", summary="Referral pipeline: counts by partner, region and month")
async def pipeline(
    ctx: Ctx,
    _: StatsReader,
    partner: str | None = None,
    region: str | None = None,
    month_from: Annotated[str | None, Query(pattern=MONTH, examples=["2026-01"])] = None,
    month_to: Annotated[str | None, Query(pattern=MONTH, examples=["2026-12"])] = None,
) -> Pipeline:
    """Referred → acknowledged → departed / withdrawn / rejected, with average times; counts only."""
    where = queries.PipelineFilter(partner=partner, region=region, month_from=month_from, month_to=month_to)
    async with ctx.pool.acquire() as conn:
        return Pipeline.model_validate(await queries.pipeline(conn, where))
