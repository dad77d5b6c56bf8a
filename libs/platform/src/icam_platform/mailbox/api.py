"""The mailbox's HTTP routes: the SMS provider the notification service posts to, and the JSON API
the workspace's development page and `curl` read (documented in README.md beside this file)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from icam_platform.mailbox.intake import SmsRejected, sms_delivery
from icam_platform.mailbox.store import Kind, MailStore

router = APIRouter()


class AttachmentRef(BaseModel):
    position: int
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    url: str = Field(description="Download path, relative to the mailbox.")


class MessageSummary(BaseModel):
    """One message as listed."""

    id: int = Field(description="The mailbox's own number, as in `icam mail show N`.")
    kind: Kind
    received_at: str = Field(description="When the sink received it (UTC, ISO 8601).")
    to: str = Field(description="E-mail address(es), phone number, or postal address on one line.")
    subject: str | None = Field(description="E-mails and letters; SMS have none.")
    language: str | None
    notification_id: str | None = Field(description="The notification service's id of the message.")
    attachments: list[AttachmentRef]


class MessageDetail(MessageSummary):
    """One message with its content."""

    sender: str | None
    message_id: str | None = Field(description="The e-mail's Message-ID.")
    body: str = Field(description="Plain text: the e-mail's text part, the SMS, the letter's text.")
    html: str | None
    headers: list[tuple[str, str]] = Field(description="E-mail headers in order.")


class MessageList(BaseModel):
    messages: list[MessageSummary]
    counts: dict[str, int] = Field(description="Messages kept per kind.")


class DeliveryCheck(BaseModel):
    delivered: bool = Field(description="Whether an e-mail with this Message-ID arrived.")
    copies: int = Field(description="How many did (more than one: a resend after a crash).")


class SmsAccepted(BaseModel):
    id: str
    status: str


def _store(request: Request) -> MailStore:
    store: MailStore = request.app.state.store
    return store


@router.get("/health/live", tags=["health"])
@router.get("/health/ready", tags=["health"])
async def health(request: Request) -> dict[str, Any]:
    return {"status": "ok", "counts": await asyncio.to_thread(_store(request).counts)}


@router.post("/sms/messages", status_code=202, response_model=SmsAccepted, tags=["sms provider"])
async def send_sms(request: Request, idempotency_key: Annotated[str | None, Header()] = None) -> JSONResponse:
    """The SMS provider API the notification service posts to; a repeated key stores nothing."""
    try:
        delivery = sms_delivery(await request.json(), idempotency_key)
    except (ValueError, SmsRejected) as error:
        raise HTTPException(422, str(error)) from None
    message, created = await asyncio.to_thread(_store(request).add, delivery)
    headers = {} if created else {"Idempotent-Replayed": "true"}
    return JSONResponse({"id": f"sms-{message}", "status": "accepted"}, status_code=202, headers=headers)


@router.get("/api/delivered", response_model=DeliveryCheck, tags=["smtp sink"])
async def delivered(request: Request, message_id: Annotated[str, Query(max_length=998)]) -> dict[str, Any]:
    """The notification service's delivery check (`SMTP_DELIVERY_CHECK_URL`): before it sends again
    an e-mail whose first attempt was cut short by a crash, it asks whether that one arrived."""
    copies = await asyncio.to_thread(_store(request).copies_of, message_id)
    return {"delivered": copies > 0, "copies": copies}


@router.get("/api/messages", response_model=MessageList, tags=["mailbox"])
async def list_messages(
    request: Request,
    kind: Kind | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    before: Annotated[int | None, Query(description="Page on: only messages with a lower id.")] = None,
) -> dict[str, Any]:
    """Every message kept, newest first."""
    store = _store(request)
    messages = await asyncio.to_thread(store.list, kind, limit, before)
    return {"messages": messages, "counts": await asyncio.to_thread(store.counts)}


@router.get("/api/messages/{message}", response_model=MessageDetail, tags=["mailbox"])
async def get_message(request: Request, message: int) -> dict[str, Any]:
    """One message: text (and HTML) body, headers, attachments."""
    detail = await asyncio.to_thread(_store(request).get, message)
    if detail is None:
        raise HTTPException(404, f"no message {message}")
    return detail


@router.get("/api/messages/{message}/raw", tags=["mailbox"], response_class=Response)
async def raw_message(request: Request, message: int) -> Response:
    """An e-mail exactly as it arrived (message/rfc822), e.g. to open it in a mail client."""
    raw = await asyncio.to_thread(_store(request).raw, message)
    if raw is None:
        raise HTTPException(404, f"no raw e-mail for message {message}")
    disposition = f'attachment; filename="message-{message}.eml"'
    return Response(raw, media_type="message/rfc822", headers={"Content-Disposition": disposition})


@router.get("/api/messages/{message}/attachments/{position}", tags=["mailbox"], response_class=Response)
async def attachment(request: Request, message: int, position: int) -> Response:
    """An attachment (a letter's PDF), with its content type and file name."""
    found = await asyncio.to_thread(_store(request).attachment, message, position)
    if found is None:
        raise HTTPException(404, f"no attachment {position} on message {message}")
    disposition = f'inline; filename="{found.filename}"'
    return Response(
        found.content, media_type=found.content_type, headers={"Content-Disposition": disposition}
    )
