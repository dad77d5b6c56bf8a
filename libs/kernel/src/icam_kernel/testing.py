"""Helpers for tests of the kernel and of services: sample events, reading a topic back."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from aiokafka import AIOKafkaConsumer

from icam_kernel.events import Actor, NewEvent

COACH = Actor(id="coach-1", role="coach", organisation="immigration_office")


def new_event(event_type: str = "InvitationSent", **data: Any) -> NewEvent:
    """A version-1 event by a coach, with `data` (default `{"n": 1}`) and a fresh correlation id."""
    return NewEvent(
        event_type=event_type,
        event_version=1,
        data=data or {"n": 1},
        actor=COACH,
        correlation_id=str(uuid.uuid4()),
    )


async def read_topic(
    bootstrap: str, topic: str, expected: int, timeout: float = 20.0
) -> list[dict[str, Any]]:
    """Read `topic` from the start without a group until `expected` messages or the timeout."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await consumer.start()
    seen: list[dict[str, Any]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout
        while len(seen) < expected and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                seen += [
                    {
                        "value": json.loads(r.value),
                        "headers": dict(r.headers),
                        "key": r.key,
                        "partition": r.partition,
                    }
                    for r in records
                ]
    finally:
        await consumer.stop()
    return seen
