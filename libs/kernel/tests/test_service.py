"""The composition root: a service app starts against the real servers and reports ready."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from icam_kernel.service import ServiceRuntime, ServiceSettings, create_service_app
from icam_kernel.store import EventStore
from icam_kernel.timers import Timer, schedule

pytestmark = pytest.mark.integration


def test_a_service_app_applies_migrations_starts_its_relay_and_is_ready(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = ServiceSettings("demo", database_url, kafka_bootstrap, pool_size=4)
    runtime = ServiceRuntime("demo", settings, migrations_dir=None, store=EventStore("demo.events"))

    async def ignore(conn: object, event: object) -> None:
        return None

    runtime.consume("demo.other.events", "demo-from-other", ignore)  # type: ignore[arg-type]
    with TestClient(create_service_app(runtime)) as client:
        ready = client.get("/health/ready")

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": True, "broker": True, "relay": True}


async def test_a_background_task_starts_after_the_migrations_and_is_cancelled_on_shutdown(
    database_url: str, kafka_bootstrap: str
) -> None:
    runtime = ServiceRuntime(
        "demo",
        ServiceSettings("demo", database_url, kafka_bootstrap, pool_size=4),
        None,
        EventStore("demo.events"),
    )
    seen: list[str] = []
    running = asyncio.Event()

    async def sweep() -> None:
        assert runtime.pool is not None
        async with runtime.pool.acquire() as conn:
            seen.append(str(await conn.fetchval("select to_regclass('timers')")))
        running.set()
        try:
            await asyncio.Event().wait()
        finally:
            seen.append("cancelled")

    runtime.background("sweeper", sweep)
    await runtime.start()
    try:
        await asyncio.wait_for(running.wait(), 10)
    finally:
        await runtime.stop()

    assert seen == ["timers", "cancelled"]


def test_a_background_task_name_is_registered_once() -> None:
    runtime = ServiceRuntime(
        "demo", ServiceSettings("demo", "postgresql://unused", "unused:9092"), None, EventStore("demo.events")
    )

    async def work() -> None:
        return None

    runtime.background("sweeper", work)
    with pytest.raises(ValueError, match="sweeper"):
        runtime.background("sweeper", work)


_DUE_IN = "select due_at - now() from timers where id = $1"


async def test_a_failing_timer_is_retried_after_the_runtimes_delay(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = ServiceSettings("demo", database_url, kafka_bootstrap, pool_size=4)
    runtime = ServiceRuntime(
        "demo", settings, None, EventStore("demo.events"), timer_retry_delay=timedelta(minutes=10)
    )
    attempts: list[Timer] = []

    async def fail(conn: object, timer: Timer) -> None:
        attempts.append(timer)
        raise RuntimeError("partner directory unreachable")

    runtime.timers["deadline"] = fail  # type: ignore[assignment]
    await runtime.start()
    try:
        assert runtime.pool is not None
        async with runtime.pool.acquire() as conn:
            timer_id = await schedule(conn, "deadline", datetime.now(UTC), {"r": "ref-1"})
        async with asyncio.timeout(10), runtime.pool.acquire() as conn:
            # the handler failed, and its transaction is over once the timer is put off
            while (delay := await conn.fetchval(_DUE_IN, timer_id)) < timedelta(minutes=1):
                await asyncio.sleep(0.05)
    finally:
        await runtime.stop()

    assert len(attempts) == 1
    assert timedelta(minutes=9) < delay <= timedelta(minutes=10)


def test_the_relay_is_not_ready_when_it_died_even_with_an_empty_outbox(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = ServiceSettings("demo", database_url, kafka_bootstrap, pool_size=4)
    runtime = ServiceRuntime("demo", settings, migrations_dir=None, store=EventStore("demo.events"))
    with TestClient(create_service_app(runtime)) as client:
        assert client.get("/health/ready").json()["checks"]["relay"] is True
        relay = next(t for t in runtime.supervisor._tasks if t.get_name() == "outbox-relay")
        client.portal.call(_cancelled, relay)  # the relay's task ends: nothing publishes any more

        ready = client.get("/health/ready")

    assert ready.status_code == 503
    assert ready.json()["checks"]["relay"] is False


async def _cancelled(task: asyncio.Task[None]) -> None:
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


def test_a_worker_in_a_crash_loop_fails_liveness_and_its_restarts_are_counted(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = ServiceSettings(
        "demo", database_url, kafka_bootstrap, pool_size=4, worker_backoff_ceiling=0.05, crash_loop_restarts=3
    )
    runtime = ServiceRuntime("demo", settings, migrations_dir=None, store=EventStore("demo.events"))

    async def sweep() -> None:
        raise LookupError("a bug: the sweep's table is not there")

    runtime.background("sweeper", sweep)
    with TestClient(create_service_app(runtime)) as client:
        live = client.get("/health/live")
        for _ in range(100):
            if live.status_code == 503:
                break
            client.portal.call(asyncio.sleep, 0.05)
            live = client.get("/health/live")
        metrics = client.get("/metrics").text

    assert live.status_code == 503 and live.json() == {"status": "crash-loop", "workers": ["sweeper"]}
    assert 'icam_worker_restarts_total{worker="sweeper"}' in metrics
