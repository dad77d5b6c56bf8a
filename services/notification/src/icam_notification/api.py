"""HTTP queries: notifications per case, household and person; letters as PDF; delivery stats.

Which roles may call each route is the route table's (`icam_auth.policy`); here, on top of it:
coaches and team leads see the notifications of households in their region, admins all;
ops_viewer sees the statistics only, never personal data.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from icam_auth import Forbidden, Principal, Role
from icam_auth.fastapi import CurrentPrincipal
from icam_kernel.errors import NotFound
from icam_kernel.http_queries import Limit, Offset
from icam_kernel.openapi import binary_content
from icam_kernel.routing import PolicyRouter

NOTIFICATION_EXAMPLE: dict[str, Any] = {
    "notification_id": "92e46187-db3b-4075-94cc-70b3c2d14ef8",
    "household_id": "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10",
    "case_id": "9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d",
    "invitation_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "referral_id": None,
    "caused_by_event_id": "0d1f6a52-3c8e-4a7b-9f2e-6e3c2f1b9a01",
    "recipient_kind": "person",
    "recipient_id": "8123456",
    "channel": "email",
    "language": "fr",
    "template": "invitation_letter",
    "reference": "INV-7C9E6679",
    "subject": "Invitation : rendez-vous avec un coach ICAM le mercredi 11 mars 2026 à 10:00",
    "status": "sent",
    "attempts": 1,
    "provider_reference": "<92e46187-db3b-4075-94cc-70b3c2d14ef8@notification.icam.local>",
    "last_error": None,
    "created_at": "2026-03-01T09:00:00Z",
    "sent_at": "2026-03-01T09:00:01Z",
}
Status = Literal["pending", "retrying", "sent", "failed"]


class NotificationView(BaseModel):
    """One message to one recipient on one channel, and where its delivery stands."""

    model_config = {"json_schema_extra": {"examples": [NOTIFICATION_EXAMPLE]}}

    notification_id: UUID
    household_id: UUID
    case_id: UUID | None
    invitation_id: UUID | None
    referral_id: UUID | None
    caused_by_event_id: UUID = Field(description="The event the message is about.")
    recipient_kind: str
    recipient_id: str = Field(description="Dossier reference of the person, or the partner's code.")
    channel: str
    language: str = Field(description="Language the message was written in.")
    template: str
    reference: str = Field(description="Reference the person quotes when they call.")
    subject: str
    status: Status
    attempts: int = Field(description="Delivery attempts so far.")
    provider_reference: str | None
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


class NotificationDetail(NotificationView):
    """A notification with what it said and where it went."""

    address: str | None = Field(description="E-mail address, phone number or postal address used.")
    body: str = Field(description="The text of the e-mail or letter.")
    sms: str = Field(description="The SMS text.")


class NotificationPage(BaseModel):
    """A page of notifications, newest first."""

    items: list[NotificationView]
    total: int
    limit: int
    offset: int


class ChannelLanguageStats(BaseModel):
    """Delivery counts for one channel and language (no personal data)."""

    model_config = {
        "json_schema_extra": {
            "examples": [
                {"channel": "email", "language": "fr", "sent": 120, "failed": 3, "retried": 7, "pending": 2}
            ]
        }
    }

    channel: str
    language: str
    sent: int
    failed: int = Field(description="Failed for good.")
    retried: int = Field(description="Attempts that failed and were retried.")
    pending: int = Field(description="Not yet sent (pending or waiting to retry).")


class DeliveryStatistics(BaseModel):
    """Delivery statistics per channel and language."""

    rows: list[ChannelLanguageStats]


Caller = CurrentPrincipal


def _visibility(caller: Principal, params: list[Any]) -> str:
    """A SQL condition limiting rows to what ``caller`` may see; appends its parameters."""
    if caller.role is Role.ADMIN:
        return "true"
    if caller.role in (Role.COACH, Role.TEAM_LEAD) and caller.region:
        params.append(caller.region)
        return f"region = ${len(params)}"
    raise Forbidden(f"role {caller.role.value} may not see personal data")


router = PolicyRouter("notification", tags=["notifications"])


@router.get(
    "/notifications", summary="Notifications per case, household or person", response_model=NotificationPage
)
async def list_notifications(
    request: Request,
    caller: Caller,
    case_id: UUID | None = None,
    household_id: UUID | None = None,
    person_id: Annotated[
        str | None, Query(max_length=50, description="Dossier reference of the recipient.")
    ] = None,
    status: Status | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> NotificationPage:
    """Notifications the caller may see, newest first, filtered and paged."""
    params: list[Any] = []
    conditions = [_visibility(caller, params)]
    for column, value in (("case_id", case_id), ("household_id", household_id), ("recipient_id", person_id)):
        if value is not None:
            params.append(value)
            conditions.append(f"{column} = ${len(params)}")
    if status is not None:
        params.append(status)
        conditions.append(f"status = ${len(params)}")
    where = " and ".join(conditions)
    async with request.app.state.runtime.pool.acquire() as conn:
        total = await conn.fetchval(f"select count(*) from notifications where {where}", *params)
        rows = await conn.fetch(
            f"select * from notifications where {where} order by created_at desc, notification_id "
            f"limit {limit} offset {offset}",
            *params,
        )
    items = [NotificationView.model_validate(dict(r)) for r in rows]
    return NotificationPage(items=items, total=total, limit=limit, offset=offset)


async def _one(request: Request, caller: Caller, notification_id: UUID, columns: str = "*") -> Any:
    params: list[Any] = [notification_id]
    visible = _visibility(caller, params)
    async with request.app.state.runtime.pool.acquire() as conn:
        row = await conn.fetchrow(
            f"select {columns}, ({visible}) as visible from notifications n where notification_id = $1",
            *params,
        )
    if row is None:
        raise NotFound("notification", str(notification_id))
    if not row["visible"]:
        raise Forbidden("this notification concerns a household outside your region or organisation")
    return row


@router.get("/notifications/{notification_id}", summary="One notification", response_model=NotificationDetail)
async def get_notification(request: Request, caller: Caller, notification_id: UUID) -> NotificationDetail:
    """A notification with its text, address, status and attempts."""
    row = await _one(request, caller, notification_id)
    return NotificationDetail.model_validate(dict(row))


@router.get(
    "/notifications/{notification_id}/pdf",
    summary="The letter of a postal notification, as PDF",
    response_class=Response,
    responses={
        200: {"content": binary_content("application/pdf"), "description": "The letter, one A4 page."}
    },
)
async def get_letter(request: Request, caller: Caller, notification_id: UUID) -> Response:
    """The PDF letter as stored for printing; 404 until it was rendered, or for other channels."""
    await _one(request, caller, notification_id, columns="notification_id")
    async with request.app.state.runtime.pool.acquire() as conn:
        pdf = await conn.fetchval("select pdf from letters where notification_id = $1", notification_id)
    if pdf is None:
        raise NotFound("letter", str(notification_id))
    headers = {"Content-Disposition": f'inline; filename="icam-letter-{notification_id}.pdf"'}
    return Response(bytes(pdf), media_type="application/pdf", headers=headers)


@router.get("/stats/delivery", summary="Delivery statistics per channel and language", tags=["statistics"])
async def delivery_statistics(request: Request, caller: Caller) -> DeliveryStatistics:
    """Counts only (ops_viewer may read them): sent, failed for good, retried, pending."""
    async with request.app.state.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            """with pending as (
                   select channel, language, count(*) as pending from notifications
                   where status in ('pending', 'retrying') group by channel, language)
               select coalesce(s.channel, p.channel) as channel, coalesce(s.language, p.language) as language,
                      coalesce(s.sent, 0) as sent, coalesce(s.failed, 0) as failed,
                      coalesce(s.retried, 0) as retried, coalesce(p.pending, 0) as pending
               from delivery_stats s full join pending p on p.channel = s.channel and p.language = s.language
               order by 1, 2"""
        )
    return DeliveryStatistics(rows=[ChannelLanguageStats.model_validate(dict(r)) for r in rows])
