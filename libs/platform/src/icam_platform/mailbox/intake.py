"""What the sinks accept: e-mails over SMTP and SMS posted as the notification service's provider.

The SMS side speaks the contract of `icam_notification.channels.HttpSmsSender`:
`POST {to, text, reference, language}` with an `Idempotency-Key` header, answered with
`{"id": ...}`; a repeated key is answered with the first message's id and stores nothing.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
from email.message import EmailMessage
from typing import Any

import structlog

from icam_platform.mailbox.store import Attachment, Delivery, MailStore

log = structlog.get_logger(__name__)


def parse_email(raw: bytes, recipients: list[str]) -> Delivery:
    """The delivery an SMTP transaction carried: headers, text and HTML bodies, attachments."""
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(mail, EmailMessage)
    text = mail.get_body(preferencelist=("plain",))
    html = mail.get_body(preferencelist=("html",))
    return Delivery(
        kind="email",
        recipient=", ".join(recipients) or str(mail.get("To", "")),
        sender=str(mail.get("From", "")) or None,
        subject=str(mail.get("Subject", "")) or None,
        language=_language(mail, text),
        notification_id=str(mail.get("X-ICAM-Notification-Id", "")) or None,
        message_id=str(mail.get("Message-ID", "")) or None,
        body=_content(text),
        html=_content(html) or None,
        headers=[(name, str(value)) for name, value in mail.items()],
        raw=raw,
        attachments=[_attachment(part) for part in mail.iter_attachments()],
    )


def _language(mail: EmailMessage, text: Any) -> str | None:
    """Content-Language of the message, or of its text part (where multipart moves it)."""
    for part in (mail, text):
        if part is not None and part.get("Content-Language"):
            return str(part["Content-Language"])
    return None


def _content(part: Any) -> str:
    return str(part.get_content()) if part is not None else ""


def _attachment(part: EmailMessage) -> Attachment:
    payload = part.get_payload(decode=True)
    content = payload if isinstance(payload, bytes) else b""
    return Attachment(part.get_filename() or "attachment", part.get_content_type(), content)


class SmtpSink:
    """aiosmtpd handler: every message that arrives is stored, none is relayed anywhere."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        try:
            delivery = parse_email(raw, list(envelope.rcpt_tos))
            message, _ = await asyncio.to_thread(self.store.add, delivery)
        except Exception as error:  # a message we cannot keep is refused, so the sender retries
            log.warning("mailbox_email_refused", error_type=type(error).__name__)
            return "451 Requested action aborted: could not store the message"
        log.info("mailbox_email_stored", message=message, notification_id=delivery.notification_id)
        return "250 Message accepted for delivery"


class SmsRejected(ValueError):
    """The request misses what a provider needs (answered 422, a permanent failure)."""


def sms_delivery(payload: Any, idempotency_key: str | None) -> Delivery:
    """The SMS a provider request asks to send."""
    if not isinstance(payload, dict) or not payload.get("to") or not payload.get("text"):
        raise SmsRejected("an SMS needs 'to' and 'text'")
    key = idempotency_key or payload.get("reference")
    return Delivery(
        kind="sms",
        recipient=str(payload["to"]),
        body=str(payload["text"]),
        language=payload.get("language"),
        notification_id=payload.get("reference"),
        dedupe_key=f"sms:{key}" if key else None,
    )
