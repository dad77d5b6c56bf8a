"""The path of every command and every reaction, written once (DESIGN §7).

    HTTP route ──► execute(decider, stream_id, decide, caller)    one transaction of its own
    Kafka record ──► react(conn, decider, plan, cause)             inside the inbox's transaction

Both run the same steps on one connection: take the stream's lock, load (every event decoded by
`icam_contracts.registry`, the only registry, and folded by the decider), check (exists, caller
authorised, idempotency record, pinned version), decide (a pure function returning contract
events), append (events + outbox + inline projections), run the same-transaction policies (timers,
claims kept beside the stream) and, for a command, store the idempotency record.

Concurrency policy, the one for every service: writers of a stream queue on the stream's
transaction-scoped advisory lock (the key `kernel_append` uses), so two commands — or a command
and a reaction — on one case never fail each other: the second decides on what the first wrote.
A caller that pins `expected_version` (it decided on what it saw) gets 409 when the stream moved.
A transient failure before the commit (`failures.is_transient`: a deadlock or serialization
failure, a lost connection, a read-only or restarting database) retries the whole transaction with
backoff for up to `retry_ceiling` seconds, then answers 503 (`DatabaseUnavailable`); a connection
lost during the commit itself is not retried (the outcome is unknown: the client's
`Idempotency-Key` tells on its retry).

Ids of the journey (ADR 0004), once: a command continues the household's journey (the
`journeys` table), a reaction takes the causing event's; a new household's journey is the
caller's `X-Correlation-ID`, else new. Causation: the command id, the causing event's id or the
timer's id. Events a reaction decides get ids derived from their cause, so a redelivered cause
can never append them twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Generic, TypeVar

import asyncpg
import structlog
from starlette.exceptions import HTTPException

from icam_auth import Principal
from icam_contracts.base import Event
from icam_contracts.enums import ActorRole
from icam_kernel import idempotency, journeys
from icam_kernel.db import Connection
from icam_kernel.decider import Aggregate, Decider, fold
from icam_kernel.errors import AlreadyExists, DatabaseUnavailable, DomainError, NotFound
from icam_kernel.events import Actor, NewEvent, RecordedEvent
from icam_kernel.failures import Backoff, describe, is_transient
from icam_kernel.keyring import KeyringUnavailable
from icam_kernel.observability import COMMANDS
from icam_kernel.store import AppendResult, EventStore, Expected, ExpectedVersion, WrongExpectedVersion

log = structlog.get_logger(__name__)

S = TypeVar("S")
Policy = Callable[[Connection, Any], Awaitable[None]]
Clock = Callable[[], datetime]

__all__ = ["Aggregate", "Application", "Caller", "Cause", "CommandResult", "Decider", "Plan"]

# backoff of a command's transaction after a transient failure, within `retry_ceiling` seconds
RETRY_BACKOFF = Backoff(initial=0.02, ceiling=1.0)
# what a command may be refused with: a rule, a stale version, the caller's rights (401/403/404)
REFUSALS = (DomainError, WrongExpectedVersion, HTTPException)
_DERIVED = uuid.UUID("3f6c2a7e-3d1b-4c9e-9a0f-6c1d2e3f4a5b")  # namespace of caused event ids


@dataclass(frozen=True)
class Loaded(Generic[S]):
    """A stream folded: its state, its version, and the journey of its first event."""

    state: S
    version: int
    correlation_id: str | None


_ACTOR_ROLES = frozenset(r.value for r in ActorRole)


@dataclass(frozen=True)
class Caller:
    """Who gives a command over HTTP, and what ties it to a journey and to its retries."""

    principal: Principal
    command_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_hint: str | None = None
    idempotency: idempotency.Key | None = None

    @property
    def actor(self) -> Actor:
        """The envelope's actor: a role the public contracts do not list (the data-protection
        officer, an administrator) acts as `system`, under its own subject id."""
        p = self.principal
        role = p.role.value if p.role.value in _ACTOR_ROLES else ActorRole.SYSTEM.value
        return Actor(id=p.subject, role=role, organisation=p.organisation or "immigration_office")


@dataclass(frozen=True)
class Cause:
    """What a reaction answers: an event from a topic, or a durable timer that came due."""

    causation_id: str
    correlation_id: str | None
    occurred_at: datetime | None = None

    @classmethod
    def of_event(cls, recorded: RecordedEvent) -> Cause:
        return cls(str(recorded.event_id), recorded.correlation_id, recorded.occurred_at)

    @classmethod
    def of_timer(cls, timer_id: uuid.UUID) -> Cause:
        return cls(str(timer_id), None)


@dataclass(frozen=True)
class Plan(Generic[S]):
    """What a reaction does: on which stream, and the pure decision to take there."""

    stream_id: str
    decide: Callable[[S], Sequence[Event]]
    requires_existing: bool = True
    extends: frozenset[str] = frozenset()


@dataclass(frozen=True)
class CommandResult:
    """Where a command left its stream, returned to the caller (and replayed from the record)."""

    stream_id: str
    stream_version: int
    position: int
    events: tuple[str, ...]
    correlation_id: str
    household_id: str | None
    command_id: str
    created_id: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    replayed: bool = False

    def to_record(self) -> dict[str, Any]:
        return {
            "stream_id": self.stream_id,
            "stream_version": self.stream_version,
            "position": self.position,
            "events": list(self.events),
            "correlation_id": self.correlation_id,
            "household_id": self.household_id,
            "command_id": self.command_id,
            "created_id": self.created_id,
            "extra": dict(self.extra),
        }

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> CommandResult:
        return cls(**{**record, "events": tuple(record["events"]), "replayed": True})


Authorize = Callable[[Principal, S], None]
Alongside = Callable[[Connection], Awaitable[None]]
Summarize = Callable[[Sequence[Event]], Mapping[str, Any]]


class Application:
    """One service's command path over its event store; `pool` is resolved when first used."""

    def __init__(
        self,
        store: EventStore,
        pool: Callable[[], asyncpg.Pool],
        system_actor: Actor,
        *,
        clock: Clock | None = None,
        service: str | None = None,
        retry_ceiling: float = 5.0,
    ) -> None:
        self.store, self._pool, self.system_actor, self.clock = store, pool, system_actor, clock
        self.service = service or system_actor.id.removeprefix("icam-")
        self.retry_ceiling = retry_ceiling
        self._policies: dict[str, list[Policy]] = {}

    @property
    def pool(self) -> asyncpg.Pool:
        return self._pool()

    def after(self, event_type: str, policy: Policy) -> None:
        """Run `policy(conn, event)` in the transaction of every append of `event_type` (timers,
        claims: state kept beside the stream that must exist exactly when the event does)."""
        self._policies.setdefault(event_type, []).append(policy)

    async def load(
        self,
        conn: Connection,
        decider: Decider[S],
        stream_id: str,
        *,
        as_of: datetime | None = None,
        occurred_as_of: datetime | None = None,
    ) -> Loaded[S]:
        """The stream folded by `decider`; an event type this version does not know still counts
        in the version but changes nothing (a newer producer's)."""
        history = await self.store.read_stream(conn, stream_id, as_of=as_of, occurred_as_of=occurred_as_of)
        version = history[-1].stream_version if history else 0
        return Loaded(
            fold(decider, stream_id, history), version, history[0].correlation_id if history else None
        )

    async def execute(
        self,
        decider: Decider[S],
        stream_id: str,
        decide: Callable[[S], Sequence[Event]],
        caller: Caller,
        *,
        authorize: Authorize[S] | None = None,
        creates: bool = False,
        expected_version: int | None = None,
        occurred_at: datetime | None = None,
        created_id: str | None = None,
        summarize: Summarize | None = None,
        extends: frozenset[str] = frozenset(),
        command: str = "",
        alongside: Alongside | None = None,
    ) -> CommandResult:
        """Run one HTTP command in a transaction of its own (see the module's docstring);
        `command` names it in the `icam_commands_total` metric (the route's path template);
        `alongside(conn)` is work that must commit with the events, or not at all (a document's
        content beside its `DocumentAdded`)."""
        name = command or decider.kind
        try:
            result = await self._execute(
                decider,
                stream_id,
                decide,
                caller,
                authorize=authorize,
                creates=creates,
                expected_version=expected_version,
                occurred_at=occurred_at,
                created_id=created_id,
                summarize=summarize,
                extends=extends,
                alongside=alongside,
            )
        except DatabaseUnavailable:
            COMMANDS.labels(self.service, name, "failed").inc()
            raise
        except REFUSALS:
            COMMANDS.labels(self.service, name, "refused").inc()
            raise
        except Exception:
            COMMANDS.labels(self.service, name, "failed").inc()
            raise
        COMMANDS.labels(self.service, name, "replayed" if result.replayed else "accepted").inc()
        return result

    async def _execute(
        self,
        decider: Decider[S],
        stream_id: str,
        decide: Callable[[S], Sequence[Event]],
        caller: Caller,
        **options: Any,
    ) -> CommandResult:
        started, attempt = time.monotonic(), 0
        while True:
            try:
                return await self._in_transaction(decider, stream_id, decide, caller, **options)
            except DatabaseUnavailable:
                raise
            except Exception as error:
                if not is_transient(error):
                    raise
                attempt += 1
                delay = RETRY_BACKOFF.delay(attempt)
                if time.monotonic() - started + delay > self.retry_ceiling:
                    if isinstance(error, KeyringUnavailable):  # 503 key-custodian-unavailable
                        raise
                    raise DatabaseUnavailable() from error
                log.info("command_retried", stream_id=stream_id, attempt=attempt, **describe(error))
                await asyncio.sleep(delay)

    async def _in_transaction(
        self,
        decider: Decider[S],
        stream_id: str,
        decide: Callable[[S], Sequence[Event]],
        caller: Caller,
        **options: Any,
    ) -> CommandResult:
        """One attempt; a failure during the commit itself is not retried (outcome unknown)."""
        async with self.pool.acquire() as conn:
            transaction = conn.transaction()
            await transaction.start()
            try:
                result = await self._command(conn, decider, stream_id, decide, caller, **options)
            except BaseException:
                with contextlib.suppress(Exception):
                    await transaction.rollback()
                raise
            try:
                await transaction.commit()
            except Exception as error:
                if is_transient(error):
                    raise DatabaseUnavailable(outcome_unknown=True) from error
                raise
            return result

    async def _command(
        self,
        conn: Connection,
        decider: Decider[S],
        stream_id: str,
        decide: Callable[[S], Sequence[Event]],
        caller: Caller,
        *,
        authorize: Authorize[S] | None,
        creates: bool,
        expected_version: int | None,
        occurred_at: datetime | None,
        created_id: str | None,
        summarize: Summarize | None,
        extends: frozenset[str],
        alongside: Alongside | None,
    ) -> CommandResult:
        await lock(conn, stream_id)
        loaded = await self.load(conn, decider, stream_id)
        exists = decider.exists(loaded.state)
        if not exists and not creates:
            raise NotFound(decider.kind, stream_id)
        if authorize is not None:
            authorize(caller.principal, loaded.state)
        if caller.idempotency is not None:
            stored = await idempotency.claim(conn, caller.idempotency)
            if stored is not None:
                return CommandResult.from_record(stored)
        if exists and creates:
            raise AlreadyExists(decider.kind, stream_id)
        if expected_version is not None and expected_version != loaded.version:
            raise WrongExpectedVersion(stream_id, expected_version, loaded.version)
        events = decide(loaded.state)
        result = await self._record(
            conn,
            stream_id,
            loaded,
            events,
            actor=caller.actor,
            correlation=caller.correlation_hint,
            causation=caller.command_id,
            occurred_at=occurred_at or (self.clock() if self.clock else None),
            derived_ids=False,
            from_reaction=False,
            extends=extends,
        )
        result = replace(result, created_id=created_id, extra=dict(summarize(events)) if summarize else {})
        if alongside is not None:
            await alongside(conn)
        if caller.idempotency is not None:
            await idempotency.store(conn, caller.idempotency, result.to_record())
        log.info("command_executed", stream_id=stream_id, events=list(result.events))
        return result

    async def react(
        self, conn: Connection, decider: Decider[S], plan: Plan[S], cause: Cause
    ) -> CommandResult | None:
        """Run a reaction inside the caller's transaction (the inbox's, or a timer's); None when
        there is nothing to do (the stream is unknown here, or the decision yields no events)."""
        await lock(conn, plan.stream_id)
        loaded = await self.load(conn, decider, plan.stream_id)
        if plan.requires_existing and not decider.exists(loaded.state):
            log.info("reaction_without_stream", kind=decider.kind, stream_id=plan.stream_id)
            return None
        events = plan.decide(loaded.state)
        if not events:
            return None
        return await self._record(
            conn,
            plan.stream_id,
            loaded,
            events,
            actor=self.system_actor,
            correlation=cause.correlation_id,
            causation=cause.causation_id,
            occurred_at=cause.occurred_at or (self.clock() if self.clock else None),
            derived_ids=True,
            from_reaction=cause.correlation_id is not None,
            extends=plan.extends,
        )

    async def _record(
        self,
        conn: Connection,
        stream_id: str,
        loaded: Loaded[Any],
        events: Sequence[Event],
        *,
        actor: Actor,
        correlation: str | None,
        causation: str,
        occurred_at: datetime | None,
        derived_ids: bool,
        from_reaction: bool,
        extends: frozenset[str],
    ) -> CommandResult:
        """Append `events` and run the policies. The target stream's events go at its loaded
        version; a decision may also start other streams (a rejection starts the next referral,
        a request's answer its invitation): those must not exist yet, unless their first event's
        type is in `extends` (appended to whatever the stream holds, under its lock)."""
        if not events:
            raise ValueError(f"a decision on {stream_id} returned no events")
        household = events[0].household_id
        proposal = correlation if from_reaction else loaded.correlation_id or correlation
        journey = await journeys.journey_of(conn, household, proposal, from_reaction)
        stamp = _Stamp(actor, journey, causation, occurred_at, derived_ids)
        version, position = loaded.version, 0
        for target, batch in _by_stream(stream_id, events):
            if target == stream_id:
                appended = await self._append(conn, target, batch, loaded.version, loaded.version, stamp)
                version = appended.stream_version
            else:
                other = ExpectedVersion.ANY if batch[0].event_type in extends else ExpectedVersion.NO_STREAM
                appended = await self._append(conn, target, batch, other, 0, stamp)
            position = max(position, appended.last_position)
        return CommandResult(
            stream_id=stream_id,
            stream_version=version,
            position=position,
            events=tuple(e.event_type for e in events),
            correlation_id=journey,
            household_id=str(household),
            command_id=causation,
        )

    async def _append(
        self,
        conn: Connection,
        stream_id: str,
        batch: Sequence[Event],
        expected: Expected,
        base: int,
        stamp: _Stamp,
    ) -> AppendResult:
        """One stream's share of a decision, then the policies of each of its events."""
        new = [
            NewEvent.from_model(
                event,
                actor=stamp.actor,
                correlation_id=stamp.journey,
                causation_id=stamp.causation,
                occurred_at=stamp.occurred_at,
                event_id=_derived_id(stamp.causation, stream_id, base + i, event)
                if stamp.derived_ids
                else None,
            )
            for i, event in enumerate(batch)
        ]
        appended = await self.store.append(conn, stream_id, new, expected)
        for event in batch:
            for policy in self._policies.get(event.event_type, ()):
                await policy(conn, event)
        return appended


@dataclass(frozen=True)
class _Stamp:
    """What every event of one decision carries: who, which journey, what caused it, when."""

    actor: Actor
    journey: str
    causation: str
    occurred_at: datetime | None
    derived_ids: bool


def _by_stream(target: str, events: Sequence[Event]) -> list[tuple[str, list[Event]]]:
    """The decided events grouped by the stream they belong to (their key), the target's first."""
    groups: dict[str, list[Event]] = {target: []}
    for event in events:
        groups.setdefault(event.key(), []).append(event)
    return [(stream, batch) for stream, batch in groups.items() if batch]


def _derived_id(causation: str, stream_id: str, position: int, event: Event) -> uuid.UUID:
    """The id of the event a cause adds at `position` of a stream: a second decision on the same
    cause at the same version names the same event, so it can never be appended twice."""
    return uuid.uuid5(_DERIVED, f"{causation}:{stream_id}:{position}:{event.event_type}")


async def lock(conn: Connection, stream_id: str) -> None:
    """Queue behind every other writer of the stream until this transaction ends."""
    await conn.execute("select pg_advisory_xact_lock(hashtextextended($1, 0))", stream_id)
