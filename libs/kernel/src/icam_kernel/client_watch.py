"""A consumer whose Kafka client stopped for good is started again with a new one.

aiokafka keeps a consumer's group membership and its fetches in background routines of its own.
When one of them ends on an error it did not expect (an assertion during a rebalance after the
broker came back, a request that timed out inside the heartbeat: aiokafka issue 376), every later
poll raises the same error: FastStream logs "Kafka error occurred" every five seconds, the group
evicts the member, and its partitions stand still for good while every health check is green.
Restarting FastStream's poll loop (which FastStream does) cannot help: the client itself is done.

The watch looks at every consumer of the service every few seconds. One whose client has a routine
that ended is stopped and started again: a new client joins the group and resumes from the
committed offsets (the inbox skips what was already handled). Each such restart is logged
(`consumer_client_restarted`), counted in `icam_worker_restarts_total{worker="consumer:<name>"}`
and, repeated without a batch going through in between, makes a crash loop that fails
`/health/live` (the process is then replaced).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog

from icam_kernel.supervision import Worker

log = structlog.get_logger(__name__)


class ClientStopped(Exception):
    """A routine of a consumer's Kafka client ended; the client polls no more."""

    def __init__(self, routine: str) -> None:
        super().__init__(f"the Kafka client's {routine} routine ended")
        self.routine = routine


@dataclass(frozen=True, slots=True)
class Watched:
    """One consumer: what it reports to (its supervision state) and its FastStream subscriber."""

    worker: Worker
    subscriber: Any


def stopped_routine(subscriber: Any) -> str | None:
    """The routine of the subscriber's Kafka client that has ended, if any (None while the
    subscriber is not running: a client being stopped or started is not a stopped client)."""
    client = getattr(subscriber, "consumer", None)
    if client is None or not getattr(subscriber, "running", False):
        return None
    if getattr(client, "_closed", False):
        return "client"
    return next((name for name, task in _routines(client).items() if task.done()), None)


def _routines(client: Any) -> dict[str, asyncio.Task[Any]]:
    """aiokafka's background routines that live as long as the client (private names, looked up
    defensively); the heartbeat is left out: the coordination routine stops and starts it."""
    coordinator, fetcher = getattr(client, "_coordinator", None), getattr(client, "_fetcher", None)
    found = {
        "coordination": getattr(coordinator, "_coordination_task", None),
        "fetch": getattr(fetcher, "_fetch_task", None),
    }
    return {name: task for name, task in found.items() if isinstance(task, asyncio.Task)}


def _why(client: Any) -> str:
    """The error type that ended the client's routines (reading it also tells asyncio it was seen)."""
    ended = [t for t in _routines(client).values() if t.done() and not t.cancelled()]
    errors = [type(e).__name__ for t in ended if (e := t.exception()) is not None]
    return ",".join(sorted(set(errors))) or "none"


async def restart_if_stopped(watched: Watched) -> bool:
    """Start the consumer again with a new client when its client stopped; whether it did."""
    routine = stopped_routine(watched.subscriber)
    if routine is None:
        return False
    delay = watched.worker.failed(ClientStopped(routine))
    why = _why(watched.subscriber.consumer)
    log.error("consumer_client_restarted", worker=watched.worker.name, routine=routine, error_type=why)
    await watched.subscriber.stop()
    await asyncio.sleep(delay)  # a client that stops again at once does not spin
    await watched.subscriber.start()
    watched.worker.started()
    return True


async def watch_clients(consumers: Sequence[Watched], every: float = 5.0) -> None:
    """Look at each consumer's client every `every` seconds, for ever (a supervised worker)."""
    while True:
        await asyncio.sleep(every)
        for watched in consumers:
            await restart_if_stopped(watched)
