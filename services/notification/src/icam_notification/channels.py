"""Delivery adapters: SMTP e-mail, an SMS provider over HTTP, and letters stored as PDF.

Each adapter hands one message over and returns the provider's reference, or raises
``TransientFailure`` (try again later) or ``PermanentFailure`` (this channel will never work for
this recipient). Every attempt of one notification carries the same key: the Message-ID of the
e-mail, the ``Idempotency-Key`` of the SMS request, the primary key of the stored letter. A
provider that deduplicates on it turns a resend after a crash into a no-op.

Plain SMTP servers do NOT deduplicate on Message-ID. A crash after the server accepted an e-mail
and before NotificationSent was recorded leads to a second copy with the same Message-ID, which
most mail clients show as one message. The window is one database round trip; the resend is
visible as ``attempts`` > 1 in the read model. Where the mail server can say whether it holds a
Message-ID (``SMTP_DELIVERY_CHECK_URL``; the development mailbox can), ``SmtpSender.delivered``
asks before such a resend, and the attempt is confirmed instead. See the README ("Exactly once").
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Final, Protocol
from uuid import UUID

import aiosmtplib
import httpx

from icam_contracts.reference import ReferenceData
from icam_notification import formats
from icam_notification.config import SmsSettings, SmtpSettings
from icam_notification.letters import Letter, render_letter
from icam_notification.messages import ContactInfo, office_context

_EMAIL: Final = re.compile(r"^[^@\s<>(),;:\"]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_PHONE: Final = re.compile(r"^\+?[0-9]{8,15}$")


class DeliveryFailure(Exception):
    """A send that did not go through; ``reason`` holds no personal data."""

    permanent: bool = False

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientFailure(DeliveryFailure):
    """The provider may accept the message later (busy, unreachable, 4xx SMTP, 5xx HTTP)."""


class PermanentFailure(DeliveryFailure):
    """The provider will never accept this message (invalid address, 5xx SMTP, 4xx HTTP)."""

    permanent = True


@dataclass(frozen=True)
class Outgoing:
    """One message to send, with the key every attempt of it shares."""

    notification_id: UUID
    address: str
    language: str
    subject: str
    body: str
    sms: str
    reference: str = ""
    office: str | None = None
    created_at: datetime | None = None


class Sender(Protocol):
    """Hands a message to a provider; returns the provider's reference."""

    async def send(self, message: Outgoing) -> str: ...


class DeliveryCheck(Protocol):
    """A provider that can tell whether it already holds a message (its reference, else None)."""

    async def delivered(self, message: Outgoing) -> str | None: ...


def message_id(notification_id: UUID, domain: str) -> str:
    """The Message-ID of every attempt of a notification's e-mail."""
    return f"<{notification_id}@{domain}>"


class SmtpSender:
    """E-mail over SMTP (aiosmtplib); SMTP 4xx and connection trouble are transient, 5xx permanent."""

    def __init__(
        self, settings: SmtpSettings, reply_to: str, client: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self.reply_to = reply_to
        self.client = client or httpx.AsyncClient(timeout=settings.timeout)

    async def delivered(self, message: Outgoing) -> str | None:
        """The Message-ID, when the mail server's delivery check says it holds that message; None
        when it does not, or cannot tell (no check configured, unreachable): then it is sent."""
        url = self.settings.delivery_check_url
        if not url:
            return None
        mid = message_id(message.notification_id, self.settings.message_id_domain)
        self.client = self.client or httpx.AsyncClient(timeout=self.settings.timeout)
        try:
            response = await self.client.get(url, params={"message_id": mid})
            held = response.status_code == 200 and bool(response.json().get("delivered"))
        except (httpx.HTTPError, ValueError):
            return None
        return mid if held else None

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()

    def compose(self, message: Outgoing) -> EmailMessage:
        """The e-mail, with a Message-ID derived from the notification id."""
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = message.address
        mail["Reply-To"] = self.reply_to
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = message_id(message.notification_id, self.settings.message_id_domain)
        mail["X-ICAM-Notification-Id"] = str(message.notification_id)
        mail.set_content(message.body)
        mail["Content-Language"] = message.language  # after set_content, which resets Content-*
        return mail

    async def send(self, message: Outgoing) -> str:
        if not _EMAIL.match(message.address):
            raise PermanentFailure("invalid e-mail address")
        mail = self.compose(message)
        s = self.settings
        try:
            await aiosmtplib.send(
                mail,
                hostname=s.host,
                port=s.port,
                username=s.username,
                password=s.password,
                start_tls=s.start_tls,
                timeout=s.timeout,
            )
        except aiosmtplib.SMTPRecipientsRefused as refused:
            codes = [r.code for r in refused.recipients]
            raise _by_code(min(codes) if codes else 550, "recipient refused") from None
        except aiosmtplib.SMTPResponseException as error:
            raise _by_code(error.code, "rejected") from None
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise TransientFailure(f"SMTP server unreachable ({type(error).__name__})") from None
        return str(mail["Message-ID"])


def _by_code(code: int, what: str) -> DeliveryFailure:
    failure = PermanentFailure if 500 <= code < 600 else TransientFailure
    return failure(f"SMTP {code}: {what}")


class HttpSmsSender:
    """SMS through the provider's HTTP API: ``POST {to, text, reference}`` with an Idempotency-Key."""

    def __init__(self, settings: SmsSettings, client: httpx.AsyncClient | None = None) -> None:
        self.settings = settings
        self.client = client or httpx.AsyncClient(timeout=settings.timeout)

    async def send(self, message: Outgoing) -> str:
        phone = re.sub(r"[\s./()-]", "", message.address)
        if phone.startswith("00"):
            phone = "+" + phone[2:]
        if not _PHONE.match(phone):
            raise PermanentFailure("invalid phone number")
        key = str(message.notification_id)
        headers = {"Idempotency-Key": key}
        if self.settings.token:
            headers["Authorization"] = f"Bearer {self.settings.token}"
        payload = {"to": phone, "text": message.sms, "reference": key, "language": message.language}
        try:
            response = await self.client.post(self.settings.url, json=payload, headers=headers)
        except httpx.HTTPError as error:
            raise TransientFailure(f"SMS provider unreachable ({type(error).__name__})") from None
        if response.status_code in (408, 425, 429) or response.status_code >= 500:
            raise TransientFailure(f"SMS provider HTTP {response.status_code}")
        if response.status_code >= 400:
            raise PermanentFailure(f"SMS provider refused: HTTP {response.status_code}")
        return _provider_id(response) or key

    async def close(self) -> None:
        await self.client.aclose()


def _provider_id(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("id") if isinstance(body, dict) else None
    return str(value) if value else None


class PdfLetterSender:
    """Postal letters: the PDF is rendered and stored for the print-and-post run, keyed by the
    notification id (storing it twice is a no-op). Downloadable at /notifications/{id}/pdf."""

    def __init__(self, pool: Any, reference: ReferenceData, contact: ContactInfo) -> None:
        self.pool, self.reference, self.contact = pool, reference, contact

    def letter(self, message: Outgoing) -> Letter:
        """What goes on the page of ``message``'s letter."""
        office = office_context(message.office, self.reference, self.contact)
        office_line = f"ICAM {office['city']}" + (
            f", {office['address']}" if office and office["address"] else ""
        )
        dated = (message.created_at or datetime.now(UTC)).astimezone(formats.BRUSSELS).date()
        return Letter(
            language=message.language,
            office_line=office_line,
            contact_line=f"{self.contact.email} | {self.contact.phone}",
            address_lines=tuple(message.address.splitlines()),
            place=office["city"] if office else "Bruxelles",
            dated=dated,
            reference=message.reference,
            subject=message.subject,
            body=message.body,
        )

    async def send(self, message: Outgoing) -> str:
        if not message.address.strip():
            raise PermanentFailure("no postal address")
        # laying out a page is CPU work: off the event loop, so consumers and HTTP keep answering
        pdf = await asyncio.to_thread(render_letter, self.letter(message))
        async with self.pool.acquire() as conn:
            await conn.execute(
                "insert into letters (notification_id, pdf) values ($1, $2) on conflict do nothing",
                message.notification_id,
                pdf,
            )
        return f"letter-{message.notification_id}"
