"""Releasing parked events: once a stream's dead letter is resolved (handled after a replay, or
discarded), the events parked behind it go through the consumer, in the order they arrived.

`ServiceRuntime` runs `keep_releasing(consumer)` as a supervised worker beside each consumer, so a
replay or a discard (`icam-dead-letters`) is followed within a second. Each parked event takes the
consumer's own path (`IdempotentConsumer.process`: inbox, retries, dead letter); one that fails
becomes the stream's new dead letter and the rest stay parked behind it.
"""

from __future__ import annotations

import asyncio

from icam_kernel import sequencing
from icam_kernel.inbox import Delivery, IdempotentConsumer, Outcome


async def release_parked(consumer: IdempotentConsumer, limit: int = 100) -> int:
    """Apply the parked events of every stream whose dead letter is resolved; returns how many
    left the parking (handled, skipped as duplicates, or dead-lettered anew)."""
    async with consumer.pool.acquire() as conn:
        streams = await sequencing.releasable_streams(conn, consumer.name, limit)
    released = 0
    for key in streams:
        released += await release_stream(consumer, key)
    return released


async def release_stream(consumer: IdempotentConsumer, key: str) -> int:
    """The parked events of one stream, oldest first, until none is left or one is held back."""
    released = 0
    while True:
        async with consumer.pool.acquire() as conn:
            parked = await sequencing.next_parked(conn, consumer.name, key)
        if parked is None:
            return released
        headers = [(name, str(value).encode()) for name, value in parked["headers"].items()]
        delivery = Delivery(
            parked["topic"],
            parked["partition"],
            parked["offset"],
            key.encode(),
            parked["value"].encode(),
            headers,
            parked_id=parked["id"],
        )
        if await consumer.process(delivery) is Outcome.PARKED:
            return released  # held back again: an earlier event of the stream was dead-lettered
        released += 1


async def keep_releasing(consumer: IdempotentConsumer, interval: float = 1.0) -> None:
    """Release parked events whenever their dead letters are resolved (a background worker)."""
    while True:
        await release_parked(consumer)
        await asyncio.sleep(interval)
