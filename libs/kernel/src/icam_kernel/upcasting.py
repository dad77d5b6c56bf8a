"""Upcasters turn an older event version's payload into the newest one on every read path.

Stored events are never rewritten: the store, the inbox and the projection runner upcast what
they read, so handlers only ever see the newest version of each event type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

Payload = dict[str, Any]


class Upcaster(Protocol):
    """Turns `(event_type, version, payload)` into the newest `(version, payload)` it knows."""

    def upcast(self, event_type: str, version: int, payload: Payload) -> tuple[int, Payload]: ...


class UpcasterRegistry:
    """Chains one-step functions: `register("InvitationSent", 1, v1_to_v2)` lifts v1 to v2.

    >>> registry = UpcasterRegistry()
    >>> registry.register("InvitationSent", 1, lambda p: {**p, "language": "fr"})
    >>> registry.upcast("InvitationSent", 1, {"id": "i-1"})
    (2, {'id': 'i-1', 'language': 'fr'})
    """

    def __init__(self) -> None:
        self._steps: dict[tuple[str, int], Callable[[Payload], Payload]] = {}

    def register(self, event_type: str, from_version: int, fn: Callable[[Payload], Payload]) -> None:
        """`fn` turns a `from_version` payload into a `from_version + 1` payload."""
        key = (event_type, from_version)
        if key in self._steps:
            raise ValueError(f"an upcaster for {event_type} v{from_version} is already registered")
        self._steps[key] = fn

    def upcast(self, event_type: str, version: int, payload: Payload) -> tuple[int, Payload]:
        while (step := self._steps.get((event_type, version))) is not None:
            payload = step(payload)
            version += 1
        return version, payload


class ContractUpcaster:
    """The public contracts' upcasters (`icam_contracts.upcasting`) as an `Upcaster` for the store."""

    def upcast(self, event_type: str, version: int, payload: Payload) -> tuple[int, Payload]:
        from icam_contracts.upcasting import upcast

        return upcast(event_type, version, payload)
