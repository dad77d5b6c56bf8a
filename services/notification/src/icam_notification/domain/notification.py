"""The Notification aggregate: one message to one recipient on one channel.

Its id is derived from (triggering event, recipient, channel), so a redelivered trigger names
the same notification and cannot create a second one. The stream holds ``NotificationFailed``
events for attempts that will be retried, then one final ``NotificationSent`` or
``NotificationFailed``. The SMTP Message-ID and the SMS provider's idempotency key are derived
from the id too, so a resend after a crash carries the same key as the first attempt.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import timedelta
from enum import StrEnum
from typing import Final
from uuid import UUID

from icam_contracts.enums import Channel, Language, RecipientKind
from icam_contracts.events import NotificationFailed, NotificationSent
from icam_kernel.decider import Aggregate

NOTIFICATION_NAMESPACE: Final = UUID("2f3c1a4e-6b7d-5e8f-9a0b-1c2d3e4f5a6b")


class Status(StrEnum):
    """Where a notification stands."""

    PENDING = "pending"
    """Intent recorded; not sent yet (or being sent)."""
    RETRYING = "retrying"
    """An attempt failed transiently; another is due later."""
    SENT = "sent"
    FAILED = "failed"
    """Failed for good; a fallback channel may have been planned."""


FINAL: Final = frozenset({Status.SENT, Status.FAILED})


class AlreadyFinal(Exception):
    """The notification was already sent or failed for good: nothing more may be recorded."""

    def __init__(self, notification_id: UUID, status: Status) -> None:
        super().__init__(f"notification {notification_id} is already {status.value}")
        self.notification_id = notification_id
        self.status = status


def notification_id(
    caused_by_event_id: UUID, recipient_kind: RecipientKind, recipient_id: str, channel: Channel
) -> UUID:
    """The one notification for this (trigger, recipient, channel): deterministic."""
    name = f"{caused_by_event_id}/{recipient_kind.value}/{recipient_id}/{channel.value}"
    return uuid.uuid5(NOTIFICATION_NAMESPACE, name)


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff for transient failures, bounded in attempts."""

    max_attempts: int = 6
    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=1)

    def delay(self, attempt: int) -> timedelta:
        """How long to wait after failed ``attempt`` (1-based) before the next one."""
        delay: timedelta = self.first_delay * (2 ** max(attempt - 1, 0))
        return min(delay, self.max_delay)


@dataclass(frozen=True)
class Notification:
    """State of one notification, folded from its intent and its events."""

    id: UUID
    household_id: UUID
    caused_by_event_id: UUID
    recipient_kind: RecipientKind
    recipient_id: str
    channel: Channel
    language: Language
    template: str
    case_id: UUID | None = None
    invitation_id: UUID | None = None
    referral_id: UUID | None = None
    status: Status = Status.PENDING
    failures: int = 0
    provider_reference: str | None = None
    last_error: str | None = None

    def _about(self) -> dict[str, object]:
        return {
            "household_id": self.household_id,
            "notification_id": self.id,
            "recipient_kind": self.recipient_kind,
            "recipient_id": self.recipient_id,
            "channel": self.channel,
            "language": self.language,
            "template": self.template,
            "caused_by_event_id": self.caused_by_event_id,
            "case_id": self.case_id,
            "invitation_id": self.invitation_id,
            "referral_id": self.referral_id,
        }


def _ensure_open(notification: Notification) -> None:
    if notification.status in FINAL:
        raise AlreadyFinal(notification.id, notification.status)


def record_delivery(notification: Notification, *, provider_reference: str | None) -> NotificationSent:
    """The message left for its recipient (accepted by the SMTP server, the SMS provider, or
    stored as a letter for printing)."""
    _ensure_open(notification)
    return NotificationSent.model_validate(
        {**notification._about(), "provider_reference": provider_reference}
    )


def record_failure(
    notification: Notification, *, error: str, permanent: bool, attempt: int, policy: RetryPolicy
) -> NotificationFailed:
    """An attempt failed; it is retried later unless the failure is permanent or attempts ran out."""
    _ensure_open(notification)
    will_retry = not permanent and attempt < policy.max_attempts
    return NotificationFailed.model_validate(
        {**notification._about(), "error": error, "attempt": max(attempt, 1), "will_retry": will_retry}
    )


def record_unreachable(notification: Notification) -> NotificationFailed:
    """Nobody can be written to: no address, e-mail or phone is known for the recipient."""
    return record_failure(
        notification,
        error="recipient unreachable: no postal address, e-mail or phone known",
        permanent=True,
        attempt=1,
        policy=RetryPolicy(),
    )


def evolve(notification: Notification, event: NotificationSent | NotificationFailed) -> Notification:
    """The state after ``event``."""
    if isinstance(event, NotificationSent):
        return replace(notification, status=Status.SENT, provider_reference=event.provider_reference)
    status = Status.RETRYING if event.will_retry else Status.FAILED
    return replace(notification, status=status, failures=notification.failures + 1, last_error=event.error)


OUTCOMES: Final = Aggregate(
    "notification", 0, lambda attempts, event, at: attempts + 1, lambda attempts: True
)
"""The notification's stream holds the outcomes of its attempts (the intent is the ledger's row):
its state is how many were recorded (`icam_kernel.decider`)."""
