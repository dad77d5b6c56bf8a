"""Read models kept from the notification events.

``delivery_stats`` counts, per channel and language, what was sent, what failed for good and how
many attempts failed but were retried: counts only, no personal data (ops_viewer may read it).
It is an inline projection of the kernel: updated in the transaction that appends the event, and
rebuildable from the store. The per-notification read model is the ``notifications`` table (see
``ledger.py``), whose status changes in the same transaction as each event.
"""

from __future__ import annotations

from typing import Final

from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent

_UPSERT: Final = """
insert into delivery_stats (channel, language, sent, failed, retried) values ($1, $2, $3, $4, $5)
on conflict (channel, language) do update set sent = delivery_stats.sent + excluded.sent,
    failed = delivery_stats.failed + excluded.failed, retried = delivery_stats.retried + excluded.retried
"""


class DeliveryStats:
    """Sent, failed and retried counts per channel and language."""

    name = "delivery_stats"
    event_types = frozenset({"NotificationSent", "NotificationFailed"})
    tables = ("delivery_stats",)
    schema_sql = """
    create table if not exists delivery_stats (
        channel  text   not null,
        language text   not null,
        sent     bigint not null default 0,
        failed   bigint not null default 0,
        retried  bigint not null default 0,
        primary key (channel, language)
    )
    """

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        """Count ``event`` under its channel and language."""
        data = event.data
        sent = int(event.event_type == "NotificationSent")
        retried = int(event.event_type == "NotificationFailed" and bool(data.get("will_retry")))
        failed = int(event.event_type == "NotificationFailed" and not data.get("will_retry"))
        await conn.execute(_UPSERT, data["channel"], data["language"], sent, failed, retried)
