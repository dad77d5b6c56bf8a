"""Command handlers: load the case, check who asks, decide, append — one transaction.

A command that lost a race with another writer (`WrongExpectedVersion`) is decided again on the
fresh case, a few times, unless the caller pinned `expected_version`: then the 409 goes back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import asyncpg
import structlog

from icam_auth import Principal
from icam_case.codec import fold_recorded, to_new_events
from icam_case.config import CaseSettings
from icam_case.domain import Case, Decider
from icam_contracts.enums import ActorRole
from icam_contracts.events.case import CaseEvent
from icam_kernel.db import Connection
from icam_kernel.errors import NotFound
from icam_kernel.events import Actor, NewEvent
from icam_kernel.store import AppendResult, EventStore, Expected, ExpectedVersion, WrongExpectedVersion

log = structlog.get_logger(__name__)

ATTEMPTS: Final = 3
Decide = Callable[[Case], Sequence[CaseEvent]]
Authorize = Callable[[Principal, Case], None]


@dataclass(frozen=True)
class CommandResult:
    """What a command left behind: the stream's new version and the position to wait for."""

    case_id: uuid.UUID
    stream_version: int
    position: int
    events: tuple[str, ...]


def decider_for(principal: Principal, settings: CaseSettings) -> Decider:
    """The provenance of a decision taken by `principal` under the configured legal basis and policy."""
    role = ActorRole.TEAM_LEAD if principal.role.value == "team_lead" else ActorRole.COACH
    return Decider(principal.subject, role, settings.legal_basis, settings.policy_version)


def actor_of(principal: Principal) -> Actor:
    return Actor(id=principal.subject, role=principal.role.value, organisation=principal.organisation)


async def lock_case(conn: Connection, case_id: uuid.UUID) -> None:
    """Serialise writers of one case for this transaction (the key the kernel's append uses), so that
    a reaction and a command on the same case queue instead of failing on the expected version."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))", str(case_id))


async def append_case_events(
    conn: Connection, store: EventStore, case_id: uuid.UUID, events: Sequence[NewEvent], expected: Expected
) -> AppendResult:
    """Append, and free the household for a new case when the trajectory closes (same transaction)."""
    result = await store.append(conn, str(case_id), events, expected)
    if any(e.event_type == "TrajectoryClosed" for e in events):
        await conn.execute("delete from open_cases where case_id = $1", case_id)
    return result


class CaseCommands:
    """Runs the case's commands against the store."""

    def __init__(self, pool: asyncpg.Pool, store: EventStore, settings: CaseSettings) -> None:
        self.pool, self.store, self.settings = pool, store, settings

    async def execute(
        self,
        case_id: uuid.UUID,
        principal: Principal,
        authorize: Authorize,
        decide: Decide,
        *,
        occurred_at: datetime | None = None,
        expected_version: int | None = None,
        correlation_id: str | None = None,
        command_id: str | None = None,
    ) -> CommandResult:
        """Decide on the current case and append; retried on a concurrent append unless pinned."""
        causation = command_id or str(uuid.uuid4())
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await self._once(
                    case_id,
                    principal,
                    authorize,
                    decide,
                    occurred_at,
                    expected_version,
                    correlation_id,
                    causation,
                )
            except WrongExpectedVersion:
                if expected_version is not None or attempt == ATTEMPTS:
                    raise
                log.info("command_retried_after_concurrent_append", case_id=str(case_id), attempt=attempt)
        raise AssertionError("unreachable")

    async def _once(
        self,
        case_id: uuid.UUID,
        principal: Principal,
        authorize: Authorize,
        decide: Decide,
        occurred_at: datetime | None,
        expected_version: int | None,
        correlation_id: str | None,
        causation: str,
    ) -> CommandResult:
        async with self.pool.acquire() as conn, conn.transaction():
            await lock_case(conn, case_id)
            history = await self.store.read_stream(conn, str(case_id))
            case = fold_recorded(history)
            if not case.exists:
                raise NotFound("case", str(case_id))
            authorize(principal, case)
            if expected_version is not None and expected_version != case.version:
                raise WrongExpectedVersion(str(case_id), expected_version, case.version)
            decided = decide(case)
            events = to_new_events(
                decided,
                actor=actor_of(principal),
                # the case's journey id wins: a caller's header must not split a household's journey
                correlation_id=history[0].correlation_id if history else correlation_id or str(uuid.uuid4()),
                causation_id=causation,
                occurred_at=occurred_at,
            )
            expected: Expected = case.version if case.version else ExpectedVersion.NO_STREAM
            result = await append_case_events(conn, self.store, case_id, events, expected)
        log.info("case_command", case_id=str(case_id), events=[e.event_type for e in events])
        return CommandResult(
            case_id, result.stream_version, result.last_position, tuple(e.event_type for e in events)
        )
