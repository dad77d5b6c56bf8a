"""Between the store's recorded events and the contract models the Case aggregate folds."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any, Final

from icam_case.domain import Case, evolve
from icam_contracts.base import TOLERANT
from icam_contracts.events import case as case_events
from icam_contracts.events import decisions
from icam_contracts.events.case import CaseEvent
from icam_contracts.upcasting import upcast
from icam_kernel.db import Connection
from icam_kernel.events import Actor, NewEvent, RecordedEvent
from icam_kernel.store import EventStore


def _newest_case_events() -> dict[str, type[CaseEvent]]:
    newest: dict[str, type[CaseEvent]] = {}
    candidates: list[type[CaseEvent]] = [
        value
        for module in (case_events, decisions)
        for value in vars(module).values()
        if isinstance(value, type) and issubclass(value, CaseEvent) and "event_type" in vars(value)
    ]
    for cls in candidates:
        known = newest.get(cls.event_type)
        if known is None or cls.event_version > known.event_version:
            newest[cls.event_type] = cls
    return newest


CASE_EVENT_CLASSES: Final[dict[str, type[CaseEvent]]] = _newest_case_events()
"""The newest model of every case event type: after upcasting, handlers only ever see these."""

# a deterministic id for an event caused by another event: a redelivery can never append it twice
_CAUSED = uuid.UUID("3f6c2a7e-3d1b-4c9e-9a0f-6c1d2e3f4a5b")


class ContractUpcaster:
    """The contracts' upcasters, in the shape the kernel's store and inbox expect."""

    def upcast(self, event_type: str, version: int, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        return upcast(event_type, version, payload)


def to_case_event(recorded: RecordedEvent) -> CaseEvent | None:
    """The contract model of a case event, or None for a type this version does not know."""
    cls = CASE_EVENT_CLASSES.get(recorded.event_type)
    if cls is None:
        return None
    return cls.model_validate(recorded.data, context=TOLERANT)


def fold_recorded(events: Sequence[RecordedEvent], until_version: int | None = None) -> Case:
    """The case folded from recorded events (up to `until_version`), each at the time it occurred."""
    case = Case()
    for recorded in events:
        if until_version is not None and recorded.stream_version > until_version:
            break
        model = to_case_event(recorded)
        case = evolve(case, model, recorded.occurred_at) if model else replace(case, version=case.version + 1)
    return case


async def load_case(
    store: EventStore,
    conn: Connection,
    case_id: uuid.UUID,
    *,
    as_of: datetime | None = None,
    occurred_as_of: datetime | None = None,
) -> Case:
    """The case from its stream; `as_of` folds only what was recorded by then (a temporal query)."""
    events = await store.read_stream(conn, str(case_id), as_of=as_of, occurred_as_of=occurred_as_of)
    return fold_recorded(events)


def to_new_events(
    events: Sequence[CaseEvent],
    *,
    actor: Actor,
    correlation_id: str,
    causation_id: str,
    occurred_at: datetime | None = None,
    caused_by_event: uuid.UUID | None = None,
) -> list[NewEvent]:
    """Wrap decided events for the store; events caused by an event get ids derived from it."""
    return [
        NewEvent.from_model(
            event,
            actor=actor,
            correlation_id=correlation_id,
            causation_id=causation_id,
            occurred_at=occurred_at,
            event_id=(
                uuid.uuid5(_CAUSED, f"{caused_by_event}:{index}:{event.event_type}")
                if caused_by_event is not None
                else None
            ),
        )
        for index, event in enumerate(events)
    ]
