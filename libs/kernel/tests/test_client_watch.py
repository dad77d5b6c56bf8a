"""A consumer whose Kafka client stopped for good: the watch starts it again, nothing is lost."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from prometheus_client import REGISTRY

from icam_kernel.client_watch import Watched, restart_if_stopped, stopped_routine
from icam_kernel.inbox import IdempotentConsumer, RetryPolicy
from icam_kernel.supervision import Policy, Supervisor

from .test_inbox import COUNTER_SQL, count_event, counts, recorded, until

pytestmark = pytest.mark.integration


async def _send(db: asyncpg.Pool, bootstrap: str, topic: str, names: list[str]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for name in names:
            event = await recorded(db, name)
            await producer.send_and_wait(topic, event.to_json(), key=name.encode())
    finally:
        await producer.stop()


def _end_coordination_unexpectedly(subscriber: Any) -> asyncio.Task[Any]:
    """What aiokafka issue 376 saw: the group coordination routine ends on an error it did not
    expect (here the next lookup of the coordinator raises), and the client polls no more."""
    coordinator = subscriber.consumer._coordinator

    async def unexpected() -> None:
        raise RuntimeError("unexpected inside the coordination routine")

    coordinator.ensure_coordinator_known = unexpected
    coordinator.request_rejoin()  # wakes the routine, which then meets the error
    task: asyncio.Task[Any] = coordinator._coordination_task
    return task


async def test_a_consumer_whose_client_stopped_is_started_again_and_consumes_what_came_meanwhile(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: Callable[..., Awaitable[str]]
) -> None:
    async with db.acquire() as conn:
        await conn.execute(COUNTER_SQL)
    topic = await kafka_topic("watched", partitions=2)
    supervisor = Supervisor("demo", Policy())
    consumer = IdempotentConsumer(
        db, "watched-counter", count_event, retry=RetryPolicy(attempts=2, backoff=0.01),
        watch=supervisor.worker("consumer:watched-counter"),
    )  # fmt: skip
    broker = KafkaBroker(kafka_bootstrap)
    subscriber = consumer.subscribe(broker, topic)
    watched = Watched(consumer.watch, subscriber)
    async with broker:
        await broker.start()
        await _send(db, kafka_bootstrap, topic, ["before-1", "before-2"])
        await until(lambda: _counted(db, {"before-1", "before-2"}))
        assert stopped_routine(subscriber) is None and not await restart_if_stopped(watched)

        ended = _end_coordination_unexpectedly(subscriber)
        await asyncio.wait_for(asyncio.wait([ended]), 10)
        assert stopped_routine(subscriber) == "coordination"
        await _send(db, kafka_bootstrap, topic, ["meanwhile-1", "meanwhile-2", "meanwhile-3"])
        await asyncio.sleep(7)  # past FastStream's retry after a Kafka error (5 s): nothing comes
        assert "meanwhile-1" not in await counts(db)

        restarts, stopped_client = _restarts("consumer:watched-counter"), subscriber.consumer
        assert await restart_if_stopped(watched)
        assert subscriber.consumer is not stopped_client  # a new client, not the old one revived
        await until(lambda: _counted(db, {"meanwhile-1", "meanwhile-2", "meanwhile-3"}), timeout=60)
        assert stopped_routine(subscriber) is None
    assert set((await counts(db)).values()) == {1}  # each event had one effect, the first two too
    assert _restarts("consumer:watched-counter") == restarts + 1


async def _counted(db: asyncpg.Pool, names: set[str]) -> bool:
    return names <= set(await counts(db))


def _restarts(worker: str) -> float:
    return REGISTRY.get_sample_value("icam_worker_restarts_total", {"worker": worker}) or 0.0
