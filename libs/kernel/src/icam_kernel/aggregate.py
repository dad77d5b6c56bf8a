"""Loading an aggregate is a fold of its stream; deciding is a pure function returning events.

The pattern every service follows::

    @dataclass(frozen=True)
    class Invitation:
        id: str = ""
        status: str = "none"

    def evolve(state: Invitation, event: RecordedEvent) -> Invitation:
        match event.event_type:
            case "InvitationSent":
                return replace(state, id=event.data["invitation_id"], status="sent")
            case "InvitationCancelled":
                return replace(state, status="cancelled")
        return state

    def decide_cancel(state: Invitation, *, reason: str) -> list[InvitationCancelled]:
        if state.status != "sent":
            raise Conflict("only a sent invitation can be cancelled", status=state.status)
        return [InvitationCancelled(invitation_id=state.id, reason=reason)]

    async def cancel(pool, store, invitation_id, reason, actor, correlation_id):
        async with pool.acquire() as conn, conn.transaction():
            state, version = await load(store, conn, invitation_id, Invitation(), evolve)
            events = [NewEvent.from_model(e, actor=actor, correlation_id=correlation_id)
                      for e in decide_cancel(state, reason=reason)]
            return await store.append(conn, invitation_id, events, expected_version=version)

A concurrent command that appended first makes `append` raise `WrongExpectedVersion` (HTTP 409).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.store import EventStore

S = TypeVar("S")


async def load(
    store: EventStore,
    conn: Connection,
    stream_id: str,
    initial: S,
    evolve: Callable[[S, RecordedEvent], S],
) -> tuple[S, int]:
    """Fold the stream's events over `initial`; return the state and the stream version
    (0 for a stream without events: pass it as the expected version of the next append)."""
    state, version = initial, 0
    for event in await store.read_stream(conn, stream_id):
        state, version = evolve(state, event), event.stream_version
    return state, version


async def load_from_snapshot(
    store: EventStore,
    conn: Connection,
    stream_id: str,
    initial: S,
    evolve: Callable[[S, RecordedEvent], S],
    restore: Callable[[dict[str, object]], S],
) -> tuple[S, int]:
    """Like `load`, starting from the stream's snapshot (`store.save_snapshot`) when there is one."""
    snapshot = await store.load_snapshot(conn, stream_id)
    state, version = (initial, 0) if snapshot is None else (restore(snapshot[0]), snapshot[1])
    for event in await store.read_stream(conn, stream_id, from_version=version + 1):
        state, version = evolve(state, event), event.stream_version
    return state, version
