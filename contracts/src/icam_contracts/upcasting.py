"""Upcasters: pure functions that turn the data of one event version into the next.

An old event in the store or on a topic keeps its version forever. Before validation,
``upcast`` applies the chain ``v1 → v2 → … → latest`` so handlers only ever see the newest model.
An upcaster takes and returns a JSON-like ``dict`` and never reads a clock or a database.

To evolve an event incompatibly: keep the old model class (renamed ``<Name>V<n>``), add the new
one with ``event_version = n + 1``, and register ``@upcaster("<Name>", n)`` here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]

UPCASTERS: Final[dict[tuple[str, int], Upcaster]] = {}
"""(event type, from version) → function producing the data of version + 1."""


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register the decorated function as the upcaster of ``event_type`` from ``from_version``."""

    def register(function: Upcaster) -> Upcaster:
        key = (event_type, from_version)
        if key in UPCASTERS:
            raise ValueError(f"an upcaster for {event_type} v{from_version} is already registered")
        UPCASTERS[key] = function
        return function

    return register


def upcast(event_type: str, version: int, payload: Payload) -> tuple[int, Payload]:
    """Apply every registered upcaster from ``version`` on; return the final version and data.

    The final version is the latest the chain reaches; ``registry.parse`` checks that it is the
    latest model of the event type.
    """
    data = dict(payload)
    while (step := UPCASTERS.get((event_type, version))) is not None:
        data = step(data)
        version += 1
    return version, data


@upcaster("InterviewHeld", 1)
def interview_held_v1_to_v2(payload: Payload) -> Payload:
    """Version 1 did not record interpreters: whether one was present is unknown."""
    return {**payload, "interpreter_present": None, "interpreter_language": None}
