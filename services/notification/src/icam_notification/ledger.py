"""The notifications table: intent, rendered message, delivery state, read model.

A row is inserted (status ``pending``) in the same transaction that consumed the triggering event,
before anything is sent. Its status changes only together with the event that says so
(NotificationSent / NotificationFailed), appended to the notification's stream in the same
transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from icam_contracts.enums import Channel, Language, RecipientKind
from icam_contracts.events import NotificationFailed, NotificationSent
from icam_kernel import tracing
from icam_kernel.application import Application, Cause, Plan
from icam_kernel.db import Connection
from icam_notification.domain import OUTCOMES, Notification, Status, evolve

_INSERT = """
insert into notifications (notification_id, caused_by_event_id, recipient_kind, recipient_id, channel,
    household_id, case_id, invitation_id, referral_id, region, office, template, language, correlation_id,
    address, reference, subject, body, sms, due_at, traceparent)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19,
        coalesce($20, now()), $21)
on conflict do nothing
returning notification_id
"""


@dataclass(frozen=True)
class Intent:
    """A notification about to be recorded: the domain state plus what the ledger keeps."""

    notification: Notification
    correlation_id: str
    region: str | None
    office: str | None
    address: str | None
    reference: str
    subject: str
    body: str
    sms: str


async def insert_intent(conn: Connection, intent: Intent, due_at: datetime | None = None) -> bool:
    """Record the intent; False when this (trigger, recipient, channel) already has one."""
    n = intent.notification
    inserted = await conn.fetchval(
        _INSERT,
        n.id,
        n.caused_by_event_id,
        n.recipient_kind.value,
        n.recipient_id,
        n.channel.value,
        n.household_id,
        n.case_id,
        n.invitation_id,
        n.referral_id,
        intent.region,
        intent.office,
        n.template,
        n.language.value,
        intent.correlation_id,
        intent.address,
        intent.reference,
        intent.subject,
        intent.body,
        intent.sms,
        due_at,
        tracing.current_traceparent(),  # the dispatcher sends it in this trace
    )
    return inserted is not None


def to_domain(row: Any) -> Notification:
    """The domain state of a notifications row."""
    return Notification(
        id=row["notification_id"],
        household_id=row["household_id"],
        caused_by_event_id=row["caused_by_event_id"],
        recipient_kind=RecipientKind(row["recipient_kind"]),
        recipient_id=row["recipient_id"],
        channel=Channel(row["channel"]),
        language=Language(row["language"]),
        template=row["template"],
        case_id=row["case_id"],
        invitation_id=row["invitation_id"],
        referral_id=row["referral_id"],
        status=Status(row["status"]),
        failures=0,
        provider_reference=row["provider_reference"],
        last_error=row["last_error"],
    )


async def record(
    conn: Connection,
    application: Application,
    row: Any,
    event: NotificationSent | NotificationFailed,
    *,
    retry_in: timedelta | None = None,
) -> Notification:
    """Append ``event`` to the notification's stream (the kernel's path for a reaction: its cause
    is the triggering event, its journey the household's) and bring the row to the state it says.
    The caller holds the row's lock."""
    state = evolve(to_domain(row), event)
    cause = Cause(str(row["caused_by_event_id"]), row["correlation_id"])
    plan = Plan(str(state.id), lambda _: [event], requires_existing=False)
    result = await application.react(conn, OUTCOMES, plan, cause)
    assert result is not None
    await conn.execute(
        """update notifications set status = $2, version = $3, provider_reference = $4, last_error = $5,
               lease_until = null, due_at = now() + coalesce($6, interval '0'),
               sent_at = case when $2 = 'sent' then now() else sent_at end, updated_at = now()
           where notification_id = $1""",
        state.id,
        state.status.value,
        result.stream_version,
        state.provider_reference,
        state.last_error,
        retry_in,
    )
    return state
