"""Read models: one row per referral, updated inline (in the transaction of the append).

The same table answers the partner inbox (a partner's open referrals, oldest first) and the
referral pipeline (counts by partner, region and month; times to acknowledgement and
departure). The pipeline query returns counts only, so operations never see personal data.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent

SCHEMA = """
create table if not exists referral_view (
    referral_id        uuid primary key,
    case_id            uuid        not null,
    household_id       uuid        not null,
    decision_id        uuid        not null,
    partner            text        not null,
    region             text,
    language           text        not null,
    members            jsonb       not null,
    member_count       integer     not null,
    attempt            integer     not null,
    selection_reason   text,
    status             text        not null,
    referred_at        timestamptz not null,
    acknowledge_by     timestamptz not null,
    overdue            boolean     not null default false,
    overdue_at         timestamptz,
    acknowledged_at    timestamptz,
    partner_reference  text,
    rejected_at        timestamptz,
    reject_reason      text,
    withdrawn_at       timestamptz,
    withdrawal_reason  text,
    departed_at        timestamptz,
    departed_on        date,
    destination        text,
    reintegration      boolean,
    version            integer     not null,
    position           bigint      not null
);
create index if not exists referral_view_inbox on referral_view (partner, status, referred_at);
create index if not exists referral_view_case on referral_view (case_id);
"""

_REFERRED = """
insert into referral_view (referral_id, case_id, household_id, decision_id, partner, region, language,
    members, member_count, attempt, selection_reason, status, referred_at, acknowledge_by, version, position)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'referred', $12, $13, $14, $15)
on conflict (referral_id) do nothing
"""

# event type -> (new status or None, assignments from $4 = recorded_at on, data fields for $5...)
_TRANSITIONS: dict[str, tuple[str | None, str, tuple[str, ...]]] = {
    "ReferralAcknowledged": (
        "acknowledged",
        "acknowledged_at = $4, partner_reference = $5",
        ("partner_reference",),
    ),
    "ReferralRejected": ("rejected", "rejected_at = $4, reject_reason = $5", ("reason",)),
    "ReferralWithdrawn": ("withdrawn", "withdrawn_at = $4, withdrawal_reason = $5", ("reason",)),
    "ReferralOverdue": (None, "overdue = true, overdue_at = $4", ()),
    "VoluntaryReturnCompleted": (
        "departed",
        "departed_at = $4, departed_on = $5, destination = $6, reintegration = $7",
        ("departed_on", "destination_country", "reintegration_support"),
    ),
}


class ReferralView:
    """The `referral_view` table: inbox, pipeline and referral details read from it."""

    name: str = "referral_view"
    tables: Sequence[str] = ("referral_view",)
    schema_sql: str = SCHEMA
    event_types: Collection[str] = frozenset({"ReferredToReturnPartner", *_TRANSITIONS})

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        """Fold one event into its referral's row; replays are harmless (versions only grow)."""
        data = event.data
        if event.event_type == "ReferredToReturnPartner":
            await conn.execute(
                _REFERRED,
                UUID(data["referral_id"]),
                UUID(data["case_id"]),
                UUID(data["household_id"]),
                UUID(data["decision_id"]),
                data["partner"],
                data.get("region"),
                data["language"],
                json.dumps(data["members"]),
                len(data["members"]),
                data.get("attempt", 1),
                data.get("selection_reason"),
                event.occurred_at,
                datetime.fromisoformat(data["acknowledge_by"]),
                event.stream_version,
                event.global_position,
            )
            return
        status, assignments, fields = _TRANSITIONS[event.event_type]
        values: list[Any] = [data.get(f) for f in fields]
        if event.event_type == "VoluntaryReturnCompleted":
            values[0] = date.fromisoformat(values[0])
        await conn.execute(
            f"""update referral_view set status = coalesce($3, status), {assignments}, version = $2
                where referral_id = $1 and version < $2""",
            UUID(data["referral_id"]),
            event.stream_version,
            status,
            event.recorded_at,
            *values,
        )


def deadline_status(acknowledge_by: datetime, now: datetime, due_soon: timedelta) -> str:
    """ok, due_soon (within `due_soon` of the deadline) or overdue, for an unacknowledged referral."""
    if now >= acknowledge_by:
        return "overdue"
    if acknowledge_by - now <= due_soon:
        return "due_soon"
    return "ok"
