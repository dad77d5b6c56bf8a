"""The dispatcher: sends what is due, records the outcome, retries and falls back.

Exactly once, as the person sees it:

1. the intent row was committed by the reaction (status pending, due now);
2. ``claim`` takes due rows with ``FOR UPDATE SKIP LOCKED`` (one replica per row), counts the
   attempt and sets a lease, and commits — no transaction stays open while talking to a provider;
3. ``deliver`` sends with the key derived from the notification id (Message-ID, Idempotency-Key,
   letter primary key);
4. the outcome is recorded: NotificationSent, or NotificationFailed (retried later with backoff
   through ``due_at``, or final); a permanent failure plans the next fallback channel.

A process that dies between 3 and 4 leaves the row pending with an expired lease: any replica
claims it again — the claim sees the unrecorded attempt — and resends with the same key, which the
SMS provider and the letter store deduplicate. An SMTP server does not: the e-mail is first checked
against the mail server's delivery check where there is one (``SmtpSender.delivered``) and
confirmed as sent without a second copy; without one it is sent again (README, "Exactly once").
Every attempt's outcome is counted in ``icam_notification_deliveries_total{channel, outcome}``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import replace
from datetime import timedelta
from typing import Any

import asyncpg
import structlog
from prometheus_client import Counter

from icam_contracts.enums import Channel, RecipientKind
from icam_kernel import tracing
from icam_kernel.application import Application
from icam_kernel.store import WrongExpectedVersion
from icam_notification import directory, ledger
from icam_notification.channels import DeliveryFailure, Outgoing, Sender
from icam_notification.domain import (
    FINAL,
    AlreadyFinal,
    RetryPolicy,
    Status,
    next_fallback,
    notification_id,
    record_delivery,
    record_failure,
)
from icam_notification.reactions import address_for

log = structlog.get_logger(__name__)

# `unconfirmed`: an earlier claim of the row was never recorded (the process died, or the lease ran
# out): that attempt may have reached the provider
_CLAIM = """
with due as (
    select notification_id, lease_until is not null as unconfirmed from notifications
    where status in ('pending', 'retrying') and due_at <= now()
      and (lease_until is null or lease_until < now())
    order by due_at limit $1 for update skip locked)
update notifications n set attempts = n.attempts + 1, lease_until = now() + $2, updated_at = now()
from due where n.notification_id = due.notification_id
returning n.*, due.unconfirmed
"""

DELIVERIES = Counter(
    "icam_notification_deliveries_total",
    "Delivery attempts by channel and outcome (sent, retry: failed and tried again, failed: for good)",
    ["channel", "outcome"],
)


class Dispatcher:
    """Sends due notifications on their channel's sender; one per replica."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        application: Application,
        senders: Mapping[Channel, Sender],
        *,
        retry: RetryPolicy,
        lease: timedelta,
        poll_interval: float = 0.5,
        batch: int = 20,
        parallel: int = 4,
    ) -> None:
        self.pool, self.application, self.senders = pool, application, dict(senders)
        self.retry, self.lease = retry, lease
        self.poll_interval, self.batch = poll_interval, batch
        # deliveries in flight at once: fewer than the pool's connections, so that the service's
        # consumers (inbox transactions) never wait behind a burst of sends for a connection
        self._in_flight = asyncio.Semaphore(parallel)
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due notifications now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Dispatch forever; survive a failing database by trying again at the next poll."""
        while True:
            try:
                busy = await self.dispatch_due()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as error:
                log.warning("dispatch_failed", error=str(error))
                busy = 0
            if busy:
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.poll_interval)

    async def claim(self, limit: int | None = None) -> list[Any]:
        """Take due notifications for one attempt each (committed before any send)."""
        async with self.pool.acquire() as conn:
            return list(await conn.fetch(_CLAIM, limit or self.batch, self.lease))

    async def dispatch_due(self) -> int:
        """Send every notification due now, a batch at a time; return how many were tried."""
        rows = await self.claim()

        async def limited(row: Any) -> None:
            async with self._in_flight:
                await self.deliver(row)

        await asyncio.gather(*(limited(row) for row in rows))
        return len(rows)

    async def deliver(self, row: Any) -> None:
        """One attempt: send, then record what happened; an attempt after an unrecorded one asks
        the provider first, where it can tell, whether the message already arrived. With tracing
        on, in a span of the trace that recorded the intent (what it appends continues it)."""
        attributes = {
            "icam.notification_id": str(row["notification_id"]),
            "icam.channel": row["channel"],
            "icam.template": row["template"],
            "icam.attempt": row["attempts"],
        }
        with tracing.continued(row["traceparent"], f"deliver {row['channel']}", attributes=attributes):
            await self._deliver(row)

    async def _deliver(self, row: Any) -> None:
        message, sender = outgoing(row), self.senders[Channel(row["channel"])]
        reference = await _already_delivered(sender, message) if row["unconfirmed"] else None
        if reference is not None:
            log.info("notification_delivery_confirmed", notification_id=str(message.notification_id))
            await self.record_sent(row["notification_id"], reference)
            return
        try:
            reference = await sender.send(message)
        except DeliveryFailure as failure:
            await self.record_failure(row["notification_id"], failure)
        else:
            await self.record_sent(row["notification_id"], reference)

    async def record_sent(self, notification: Any, provider_reference: str) -> None:
        """NotificationSent, unless another replica already recorded the outcome."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await _locked(conn, notification)
            if Status(row["status"]) in FINAL:
                return
            try:
                event = record_delivery(ledger.to_domain(row), provider_reference=provider_reference)
                await ledger.record(conn, self.application, row, event)
            except (AlreadyFinal, WrongExpectedVersion):
                return
        DELIVERIES.labels(row["channel"], "sent").inc()
        log.info("notification_sent", notification_id=str(notification), channel=row["channel"])

    async def record_failure(self, notification: Any, failure: DeliveryFailure) -> None:
        """NotificationFailed; retried with backoff, or final with a fallback channel planned."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await _locked(conn, notification)
            if Status(row["status"]) in FINAL:
                return
            attempt = row["attempts"]
            event = record_failure(
                ledger.to_domain(row),
                error=failure.reason,
                permanent=failure.permanent,
                attempt=attempt,
                policy=self.retry,
            )
            delay = self.retry.delay(attempt) if event.will_retry else None
            await ledger.record(conn, self.application, row, event, retry_in=delay)
            if not event.will_retry:
                await self._fall_back(conn, row)
        DELIVERIES.labels(row["channel"], "retry" if event.will_retry else "failed").inc()
        log.warning(
            "notification_failed",
            notification_id=str(notification),
            channel=row["channel"],
            error=failure.reason,
            will_retry=event.will_retry,
        )
        self.wake()

    async def _fall_back(self, conn: Any, row: Any) -> None:
        """Plan the same message on the next channel the recipient can be reached on."""
        if row["recipient_kind"] != RecipientKind.PERSON.value:
            return
        recipient = await directory.load_recipient(conn, row["recipient_id"])
        if recipient is None:
            return
        tried = await conn.fetch(
            "select channel from notifications where caused_by_event_id = $1 and recipient_id = $2",
            row["caused_by_event_id"],
            row["recipient_id"],
        )
        channel = next_fallback(recipient, {Channel(r["channel"]) for r in tried})
        if channel is None:
            return
        state = ledger.to_domain(row)
        fallback = ledger.Intent(
            notification=_on_channel(state, channel),
            correlation_id=row["correlation_id"],
            region=row["region"],
            office=row["office"],
            address=address_for(recipient, channel),
            reference=row["reference"],
            subject=row["subject"],
            body=row["body"],
            sms=row["sms"],
        )
        await ledger.insert_intent(conn, fallback)
        log.info(
            "notification_fallback_planned", notification_id=str(fallback.notification.id), channel=channel
        )


async def _already_delivered(sender: Sender, message: Outgoing) -> str | None:
    check = getattr(sender, "delivered", None)
    return await check(message) if check is not None else None


def _on_channel(state: Any, channel: Channel) -> Any:

    new_id = notification_id(state.caused_by_event_id, state.recipient_kind, state.recipient_id, channel)
    return replace(
        state, id=new_id, channel=channel, status=Status.PENDING, provider_reference=None, last_error=None
    )


async def _locked(conn: Any, notification: Any) -> Any:
    return await conn.fetchrow(
        "select * from notifications where notification_id = $1 for update", notification
    )


def outgoing(row: Any) -> Outgoing:
    """The message of a notifications row, as the senders take it."""
    return Outgoing(
        notification_id=row["notification_id"],
        address=row["address"] or "",
        language=row["language"],
        subject=row["subject"],
        body=row["body"],
        sms=row["sms"],
        reference=row["reference"],
        office=row["office"],
        created_at=row["created_at"],
    )
