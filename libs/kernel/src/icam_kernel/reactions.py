"""A service's reactions as rows of a table: which event, which stream, which decision.

    reactions = HandlerTable(
        runtime.application,
        When(InvitationSent, CASE, open_or_attach_case),        # plan: (conn, event, recorded) -> Plan
        When(ReferralAcknowledged, CASE, note_referral_news),
        Remember(CaseOpened, remember_household),               # keep another service's facts
    )
    runtime.consume("icam.invitation.events", "case-from-invitation", reactions)

The table is the inbox consumer's handler: it decodes each record once through the contracts'
registry, runs every row for its type in the inbox transaction, and tells the consumer which
types it acts on (the others are passed over without a transaction). A `When` row's plan is the
adapter step — find the stream the event concerns, gather what the decision needs — and returns a
pure decision (or several, one per stream) that `Application.react` runs; `Remember` rows write
local tables.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import structlog

from icam_contracts.base import Event
from icam_contracts.registry import UnknownEvent, parse
from icam_kernel.application import Application, Cause, Decider, Plan
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent

log = structlog.get_logger(__name__)

S = TypeVar("S")
E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class When(Generic[S, E]):
    """When `event` arrives, `plan` names the stream of `decider` it concerns and the decision."""

    event: type[E]
    decider: Decider[S]
    plan: Callable[[Connection, E, RecordedEvent], Awaitable[Plan[S] | Sequence[Plan[S]] | None]]


@dataclass(frozen=True)
class Remember(Generic[E]):
    """When `event` arrives, keep what it tells in this service's own tables (no stream)."""

    event: type[E]
    apply: Callable[[Connection, E, RecordedEvent], Awaitable[None]]


Row = When[Any, Any] | Remember[Any]
Always = Callable[[Connection, Event, RecordedEvent], Awaitable[None]]


class HandlerTable:
    """The handler of an inbox consumer, dispatching by event type to its rows, in order."""

    def __init__(self, application: Application, *rows: Row, always: Always | None = None) -> None:
        self.application = application
        self.rows: dict[str, list[Row]] = {}
        for row in rows:
            self.rows.setdefault(row.event.event_type, []).append(row)
        self.always = always

    @property
    def event_types(self) -> frozenset[str] | None:
        """The types the table acts on; None (all) when something runs for every event."""
        return None if self.always is not None else frozenset(self.rows)

    async def __call__(self, conn: Connection, recorded: RecordedEvent) -> None:
        rows = self.rows.get(recorded.event_type, [])
        if not rows and self.always is None:
            return
        try:
            event = parse(recorded.event_type, recorded.event_version, recorded.data)
        except UnknownEvent:
            log.info("event_ignored", event_type=recorded.event_type)
            return
        for row in rows:
            if isinstance(row, Remember):
                await row.apply(conn, event, recorded)
                continue
            planned = await row.plan(conn, event, recorded)
            for plan in [planned] if isinstance(planned, Plan) else planned or ():
                await self.application.react(conn, row.decider, plan, Cause.of_event(recorded))
        if self.always is not None:
            await self.always(conn, event, recorded)
