"""Read models kept inline from the case stream, in the transaction of each append.

* `CaseloadProjection` — one row per case for the coach's caseload, folded with the domain itself
  so that the list never disagrees with the case.
* `TaskList` — what needs doing on each case and by when (`domain.tasks`), for coaches and team leads.
* `OutcomeStatsProjection` — counts per region and month (outcomes, revisions, suspensions,
  closures, openings by entry channel, days from first contact to first outcome); no personal data.

Both are rebuildable with `icam_kernel.projections.rebuild`: their tables are theirs alone.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Final
from uuid import UUID

from anyascii import anyascii

from icam_case.config import MIGRATIONS
from icam_case.domain import CASE, Case
from icam_case.domain.tasks import TaskPolicy, open_tasks
from icam_contracts.registry import events_on
from icam_contracts.topics import CASE_EVENTS
from icam_kernel.db import Connection
from icam_kernel.decider import fold
from icam_kernel.events import RecordedEvent
from icam_kernel.store import EventStore
from icam_kernel.upcasting import ContractUpcaster

_FOLDED: OrderedDict[tuple[str, int, UUID], Case] = OrderedDict()  # (stream, version, event id) -> case
_FOLDED_KEPT = 4096


def forget_folds() -> None:
    """Drop every kept fold (an erasure: no opened personal data outlives its key in memory)."""
    _FOLDED.clear()


async def case_at(conn: Connection, reader: EventStore, event: RecordedEvent) -> Case:
    """The case as of `event`. The state after an event is kept (a few thousand, in memory), keyed
    by that event's id, so the next event folds onto it: the inline read models of one append share
    one fold instead of each reading the whole stream. An event of a transaction that rolled back
    left a key no committed event has, so it is never found again."""
    stream, version = event.stream_id, event.stream_version
    known = _FOLDED.get((stream, version, event.event_id))
    if known is not None:
        return known
    recent = await reader.read_stream(conn, stream, from_version=max(version - 1, 1))
    before = _FOLDED.get((stream, version - 1, recent[0].event_id)) if version > 1 and recent else None
    if before is not None:
        case = fold(CASE, stream, recent[1:], until_version=version, start=before)
    else:
        case = fold(CASE, stream, await reader.read_stream(conn, stream), until_version=version)
    _FOLDED[(stream, version, event.event_id)] = case
    while len(_FOLDED) > _FOLDED_KEPT:
        _FOLDED.popitem(last=False)
    return case


_UPSERT_CASELOAD: Final = """
insert into caseload (case_id, household_id, region, office, coach_id, status, entry_channel, language,
    opened_at, last_interview_at, next_interview_due, interviews_held, outcome, flags, adults, minors,
    version, last_position, search, updated_at)
values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, now())
on conflict (case_id) do update set
    region = excluded.region, office = excluded.office, coach_id = excluded.coach_id,
    status = excluded.status, last_interview_at = excluded.last_interview_at,
    next_interview_due = excluded.next_interview_due, interviews_held = excluded.interviews_held,
    outcome = excluded.outcome, flags = excluded.flags, version = excluded.version,
    last_position = excluded.last_position, search = excluded.search, updated_at = now()
where caseload.version < excluded.version
"""

_MONTH: Final = "date_trunc('month', $1::timestamptz at time zone 'Europe/Brussels')::date"


def search_text(case: Case) -> str:
    """What the caseload is searched by: every member's reference and names, in lowercase Latin."""
    words = []
    for member in case.members:
        words.append(member.person_id.lower())
        if (who := member.identity) is not None:
            words += [anyascii(n).lower() for n in (who.given_name, who.family_name) if n]
    return " ".join(words)


class CaseloadProjection:
    """The coach's caseload: status, coach, region, next interview due and attention flags per case."""

    name: str = "case_caseload"
    tables: Sequence[str] = ("caseload",)
    event_types: Collection[str] = frozenset(cls.event_type for cls in events_on(CASE_EVENTS))
    schema_sql: str = (MIGRATIONS / "0002_caseload.sql").read_text() + (
        MIGRATIONS / "0006_caseload_search.sql"
    ).read_text()

    def __init__(self, topic: str) -> None:
        self._reader = EventStore(topic, upcaster=ContractUpcaster())

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        """Fold the case up to this event with the domain's own `evolve`, and keep the result."""
        case = await case_at(conn, self._reader, event)
        if case.case_id is None or case.opened_at is None:
            return
        minors = sum(1 for m in case.members if m.role == "minor")
        current = case.current_decision
        await conn.execute(
            _UPSERT_CASELOAD,
            case.case_id,
            case.household_id,
            case.region,
            case.office,
            case.coach_id,
            case.status.value,
            case.entry_channel.value if case.entry_channel else None,
            case.language.value,
            case.opened_at,
            case.last_interview_at,
            case.next_appointment_at,
            case.interviews_held,
            current.outcome.value if current else None,
            list(case.flags),
            len(case.members) - minors,
            minors,
            case.version,
            event.global_position,
            search_text(case),
        )


class OutcomeStatsProjection:
    """Counts for operations and EU reporting, by region and month (Europe/Brussels)."""

    name: str = "case_outcome_stats"
    tables: Sequence[str] = ("case_facts", "outcome_counts", "time_to_outcome")
    event_types: Collection[str] = frozenset(
        {"CaseOpened", "CaseTransferred", "OutcomeDecided", "TrajectorySuspended", "TrajectoryClosed"}
    )
    schema_sql: str = (MIGRATIONS / "0003_outcome_stats.sql").read_text()

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        data, at = event.data, event.occurred_at
        match event.event_type:
            case "CaseOpened":
                await conn.execute(
                    """insert into case_facts (case_id, region, first_contact_at) values ($1, $2, $3)
                       on conflict do nothing""",
                    data["case_id"],
                    data["region"],
                    at,
                )
                await self._count(conn, data["region"], at, "opened", data["entry_channel"])
            case "CaseTransferred":
                await conn.execute(
                    "update case_facts set region = $2 where case_id = $1", data["case_id"], data["to_region"]
                )
            case "OutcomeDecided":
                await self._decided(conn, event)
            case "TrajectorySuspended":
                await self._count(
                    conn, await self._region(conn, data["case_id"]), at, "suspension", data["reason"]
                )
            case "TrajectoryClosed":
                await self._count(
                    conn, await self._region(conn, data["case_id"]), at, "closure", data["reason"]
                )

    async def _decided(self, conn: Connection, event: RecordedEvent) -> None:
        data, at = event.data, event.occurred_at
        facts = await conn.fetchrow(
            "select region, first_contact_at, first_outcome_at from case_facts where case_id = $1",
            data["case_id"],
        )
        if facts is None:
            return
        kind = "revision" if data.get("revises_decision_id") else "outcome"
        await self._count(conn, facts["region"], at, kind, data["outcome"])
        if facts["first_outcome_at"] is None:
            await conn.execute(
                "update case_facts set first_outcome_at = $2 where case_id = $1", data["case_id"], at
            )
            days = (at - facts["first_contact_at"]).total_seconds() / 86400
            await conn.execute(
                f"""insert into time_to_outcome (region, month, cases, total_days)
                    values ($2, {_MONTH}, 1, $3)
                    on conflict (region, month) do update set cases = time_to_outcome.cases + 1,
                        total_days = time_to_outcome.total_days + excluded.total_days""",
                at,
                facts["region"],
                max(days, 0.0),
            )

    async def _region(self, conn: Connection, case_id: str) -> str:
        region = await conn.fetchval("select region from case_facts where case_id = $1", case_id)
        return str(region or "unknown")

    async def _count(self, conn: Connection, region: str, at: datetime, kind: str, value: str) -> None:
        await conn.execute(
            f"""insert into outcome_counts (region, month, kind, value, count)
                values ($2, {_MONTH}, $3, $4, 1)
                on conflict (region, month, kind, value) do update set count = outcome_counts.count + 1""",
            at,
            region,
            kind,
            value,
        )


class TaskList:
    """Each case's tasks (`domain.tasks`), derived again whenever the case changes, and whenever a
    fact from another service settles one (the household answered its invitation)."""

    name: str = "case_tasks"
    tables: Sequence[str] = ("case_tasks",)
    event_types: Collection[str] = frozenset(cls.event_type for cls in events_on(CASE_EVENTS))
    schema_sql: str = (MIGRATIONS / "0004_tasks.sql").read_text()

    def __init__(self, topic: str, policy: TaskPolicy) -> None:
        self._reader = EventStore(topic, upcaster=ContractUpcaster())
        self.policy = policy

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        await self._write(conn, await case_at(conn, self._reader, event))

    async def refresh(self, conn: Connection, case_id: UUID) -> None:
        """Derive the case's tasks again from its stream (a fact of another service arrived)."""
        history = await self._reader.read_stream(conn, str(case_id))
        await self._write(conn, fold(CASE, str(case_id), history))

    async def _write(self, conn: Connection, case: Case) -> None:
        if case.case_id is None:
            return
        answered = await conn.fetch(_ANSWERED, case.case_id)
        tasks = open_tasks(case, {UUID(r["invitation_id"]) for r in answered}, self.policy)
        await conn.execute("delete from case_tasks where case_id = $1", case.case_id)
        await conn.executemany(
            """insert into case_tasks (case_id, kind, ref, due_at, household_id, region, coach_id,
                   for_team_lead) values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict do nothing""",
            [
                (
                    case.case_id,
                    t.kind.value,
                    t.ref,
                    t.due_at,
                    case.household_id,
                    case.region,
                    case.coach_id,
                    t.for_team_lead,
                )
                for t in tasks
            ],
        )


_ANSWERED = """select distinct data->>'invitation_id' as invitation_id from received_events
where case_id = $1 and event_type = 'InvitationResponseRecorded'"""
