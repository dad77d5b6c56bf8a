"""How a stream becomes state: the `Decider` protocol, `Aggregate`, and the fold. Pure.

A service's domain defines one decider per kind of stream,

    CASE = Aggregate("case", Case(), evolve, lambda case: case.exists)

and passes it, with a decision, to `Application.execute` or `react` (`icam_kernel.application`).
Events are decoded by the contracts' registry (`icam_contracts.registry.parse`, with upcasting),
the one place where stored payloads become contract models.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from icam_contracts.base import Event
from icam_contracts.registry import UnknownEvent, parse
from icam_kernel.events import RecordedEvent

S = TypeVar("S")


class Decider(Protocol[S]):
    """The kind of stream, its initial state, how one event changes it, whether it exists yet.

    Deciding is a pure function passed with each command (`decide(state) -> events`).
    """

    @property
    def kind(self) -> str: ...

    def initial(self, stream_id: str) -> S: ...

    def evolve(self, state: S, event: Event, occurred_at: datetime) -> S: ...

    def exists(self, state: S) -> bool: ...


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """A `Decider` from plain functions (its initial state is the same for every stream)."""

    kind: str
    initial_state: S
    fold_one: Callable[[S, Event, datetime], S]
    present: Callable[[S], bool]

    def initial(self, stream_id: str) -> S:
        return self.initial_state

    def evolve(self, state: S, event: Event, occurred_at: datetime) -> S:
        return self.fold_one(state, event, occurred_at)

    def exists(self, state: S) -> bool:
        return self.present(state)


def decode(recorded: RecordedEvent) -> Event | None:
    """The contract model of a stored event; None for a type this version does not know."""
    try:
        return parse(recorded.event_type, recorded.event_version, recorded.data)
    except UnknownEvent:
        return None


def fold(
    decider: Decider[S],
    stream_id: str,
    history: Iterable[RecordedEvent],
    until_version: int | None = None,
    start: S | None = None,
) -> S:
    """The state of `stream_id` after `history` (up to `until_version`), from `start` (the state
    before the first event of `history`) or the initial state; an unknown event type (a newer
    producer's) changes nothing."""
    state = start if start is not None else decider.initial(stream_id)
    for recorded in history:
        if until_version is not None and recorded.stream_version > until_version:
            break
        event = decode(recorded)
        if event is not None:
            state = decider.evolve(state, event, recorded.occurred_at)
    return state
