"""A supervised worker that fails is restarted with backoff and counted; a crash loop is visible."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from prometheus_client import REGISTRY

from icam_kernel.failures import Backoff
from icam_kernel.supervision import Policy, Supervisor

pytestmark = pytest.mark.unit

QUICK = Policy(Backoff(initial=0.01, ceiling=0.02), crash_loop=3)


def restarts(worker: str) -> float:
    return REGISTRY.get_sample_value("icam_worker_restarts_total", {"worker": worker}) or 0.0


async def test_a_worker_that_fails_is_restarted_with_backoff_and_counted() -> None:
    supervisor = Supervisor("demo", QUICK)
    runs: list[int] = []
    done = asyncio.Event()

    async def flaky() -> None:
        runs.append(len(runs) + 1)
        if len(runs) < 3:
            raise RuntimeError("a bug on the first two runs")
        done.set()
        await asyncio.Event().wait()

    before = restarts("flaky")
    supervisor.spawn("flaky", flaky)
    await asyncio.wait_for(done.wait(), 5)
    running = supervisor.running("flaky")
    await supervisor.stop()

    assert runs == [1, 2, 3] and running
    assert restarts("flaky") - before == 2
    assert supervisor.workers["flaky"].last_error == "RuntimeError"


async def test_a_worker_failing_again_and_again_for_its_own_reasons_is_in_a_crash_loop() -> None:
    supervisor = Supervisor("demo", QUICK)

    async def broken() -> None:
        raise KeyError("always")

    supervisor.spawn("broken", broken)
    async with asyncio.timeout(5):
        while not supervisor.crash_looping():
            await asyncio.sleep(0.01)
    await supervisor.stop()

    assert supervisor.crash_looping() == ["broken"]


async def test_an_outage_is_waited_out_without_a_crash_loop() -> None:
    supervisor = Supervisor("demo", QUICK)
    failures = 0

    async def database_down() -> None:
        nonlocal failures
        failures += 1
        raise asyncpg.CannotConnectNowError("the database system is starting up")

    supervisor.spawn("waiting", database_down)
    async with asyncio.timeout(5):
        while failures < 6:
            await asyncio.sleep(0.01)
    await supervisor.stop()

    assert supervisor.crash_looping() == []
    assert supervisor.workers["waiting"].in_a_row >= 6


async def test_a_worker_that_returns_is_done_and_not_restarted() -> None:
    supervisor = Supervisor("demo", QUICK)
    runs = 0

    async def once() -> None:
        nonlocal runs
        runs += 1

    task = supervisor.spawn("once", once)
    await asyncio.wait_for(task, 5)

    assert runs == 1 and not supervisor.running("once")


def test_a_success_ends_the_count_of_failures_in_a_row() -> None:
    worker = Supervisor("demo", QUICK).worker("consumer:c")
    for _ in range(3):
        worker.failed(ValueError("poison"))
    assert worker.crash_looping

    worker.succeeded()

    assert not worker.crash_looping and worker.restarts == 3
