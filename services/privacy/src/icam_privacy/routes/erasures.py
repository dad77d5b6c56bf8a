"""Erasure orders and their receipts, legal holds, what retention will erase when."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field

from icam_auth.fastapi import CurrentPrincipal
from icam_contracts.enums import ErasureBasis
from icam_kernel.errors import NotFound
from icam_kernel.http_commands import Command, CommandAccepted
from icam_kernel.http_queries import App, Limit, Offset
from icam_kernel.routing import PolicyRouter
from icam_privacy import erasures
from icam_privacy.config import PrivacySettings
from icam_privacy.domain import ERASURE, HOLD, erase, place_hold, release_hold
from icam_privacy.retention import due_of

router = PolicyRouter("privacy", tags=["erasure"])
REFERENCE = r"^[A-Za-z0-9][A-Za-z0-9./_-]*$"


class ErasureIn(BaseModel):
    """An erasure order: whom, on which legal basis, under which file of the DPO."""

    model_config = ConfigDict(extra="forbid")

    person_id: str = Field(min_length=1, max_length=50, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$")
    legal_basis: ErasureBasis = Field(description="GDPR art. 17(1) ground.", examples=["purpose_ended"])
    order_reference: str | None = Field(default=None, max_length=100, pattern=REFERENCE, examples=["DPO-7"])


class StoreLine(BaseModel):
    service: str
    store: str
    rows: int
    purged_at: datetime


class Receipt(BaseModel):
    """What was erased where, with counts and times; `complete` once every service reported."""

    erasure_id: uuid.UUID
    person_ids: list[str]
    household_ids: list[uuid.UUID]
    legal_basis: str
    ordered_by: str
    order_reference: str | None
    erased_at: datetime
    keys_destroyed: int
    status: str = Field(examples=["complete"])
    awaiting: list[str] = Field(description="Services whose purge report has not arrived yet.")
    stores: list[StoreLine]


def _settings(request: Request) -> PrivacySettings:
    settings: PrivacySettings = request.app.state.settings
    return settings


@router.post("/erasures", summary="Order the erasure of a person", status_code=201)
async def order_erasure(body: ErasureIn, command: Command, request: Request, app: App) -> CommandAccepted:
    """Destroys the person's data key and their households' text keys at once (every sealed copy
    is unreadable from this answer on), then every service purges what it keeps in clear: follow
    `GET /erasures/{id}` for the receipt. A second order for the same person: 409 with the first."""
    settings = _settings(request)
    async with app.pool.acquire() as conn:
        order = await erasures.order_for(
            conn,
            [body.person_id],
            body.legal_basis,
            command.principal.subject,
            body.order_reference,
            settings.clock(),
        )
    result = await command.execute(
        ERASURE,
        str(order.erasure_id),
        lambda given: erase(given, order),
        body=body,
        creates=True,
        created_id=str(order.erasure_id),
    )
    return CommandAccepted.of(result)


@router.get("/erasures/{erasure_id}", summary="An erasure's receipt")
async def get_receipt(erasure_id: uuid.UUID, request: Request, app: App, _: CurrentPrincipal) -> Receipt:
    async with app.pool.acquire() as conn:
        found = await erasures.receipt(conn, erasure_id, _settings(request).reporting)
    if found is None:
        raise NotFound("erasure", str(erasure_id))
    return Receipt(**found)


@router.get("/erasures", summary="Erasure receipts, newest first")
async def list_receipts(
    request: Request, app: App, _: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
) -> list[Receipt]:
    async with app.pool.acquire() as conn:
        ids = await conn.fetch(
            "select erasure_id from erasures order by erased_at desc, erasure_id limit $1 offset $2",
            limit,
            offset,
        )
        found = [await erasures.receipt(conn, r["erasure_id"], _settings(request).reporting) for r in ids]
    return [Receipt(**f) for f in found if f is not None]


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    household_id: uuid.UUID
    basis: str = Field(min_length=3, max_length=200, examples=["appeal pending before the CALL"])
    order_reference: str | None = Field(default=None, max_length=100, pattern=REFERENCE)


@router.post("/holds", summary="Keep a household's data beyond its retention period", status_code=201)
async def place(body: HoldIn, command: Command, app: App) -> CommandAccepted:
    async with app.pool.acquire() as conn:
        known = await conn.fetchval("select 1 from households where household_id = $1", body.household_id)
    if known is None:
        raise NotFound("household", str(body.household_id))
    hold_id = uuid.uuid4()
    by = command.principal.subject
    result = await command.execute(
        HOLD,
        str(hold_id),
        lambda _: place_hold(hold_id, body.household_id, body.basis, body.order_reference, by),
        body=body,
        creates=True,
        created_id=str(hold_id),
    )
    return CommandAccepted.of(result)


@router.post("/holds/{hold_id}/release", summary="End a legal hold", status_code=202)
async def release(hold_id: uuid.UUID, command: Command) -> CommandAccepted:
    by = command.principal.subject
    result = await command.execute(HOLD, str(hold_id), lambda hold: release_hold(hold, by))
    return CommandAccepted.of(result)


@router.get("/holds", summary="Legal holds, current first")
async def list_holds(
    app: App,
    _: CurrentPrincipal,
    household_id: uuid.UUID | None = None,
    current: Annotated[bool, Query(description="Only holds not released.")] = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[dict[str, Any]]:
    async with app.pool.acquire() as conn:
        rows = await conn.fetch(
            """select * from holds where ($1::uuid is null or household_id = $1)
                 and (not $2 or released_at is null)
               order by released_at nulls first, placed_at desc limit $3 offset $4""",
            household_id,
            current,
            limit,
            offset,
        )
    return [dict(r) for r in rows]


@router.get("/retention", summary="When each household's data will be erased, soonest first")
async def retention_schedule(
    request: Request, app: App, _: CurrentPrincipal, limit: Limit = 50, offset: Offset = 0
) -> list[dict[str, Any]]:
    """Households with someone not erased yet, with their due date (null while a case is open)
    and holds."""
    settings = _settings(request)
    async with app.pool.acquire() as conn:
        rows = await conn.fetch(
            """select h.*, exists (select 1 from holds where household_id = h.household_id
                   and released_at is null) as held,
                   (select count(*) from household_members where household_id = h.household_id) as members
               from households h where erased_at is null
                 and exists (select 1 from household_members where household_id = h.household_id)
               order by household_id limit $1 offset $2""",
            limit,
            offset,
        )
    out = [
        {
            "household_id": r["household_id"],
            "members": r["members"],
            "case_open": r["case_open"],
            "closed_at": r["closed_at"],
            "last_contact_at": r["last_contact_at"],
            "held": r["held"],
            "erase_on": due_of(r, closed=settings.retain_closed, unanswered=settings.retain_unanswered),
        }
        for r in rows
    ]
    return sorted(
        out, key=lambda r: (r["erase_on"] is None, r["erase_on"] or datetime.max.replace(tzinfo=None))
    )
