"""Durable timers under faults: a cancel never waits on a firing timer, an outage stops nothing for
good, and overdue timers are visible."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from prometheus_client import REGISTRY

from icam_kernel.application import lock
from icam_kernel.failures import Backoff
from icam_kernel.supervision import Policy, Supervisor
from icam_kernel.timers import Timer, TimerWorker, cancel, schedule

pytestmark = pytest.mark.integration


async def test_a_command_cancelling_a_timer_that_is_firing_neither_waits_nor_deadlocks(
    db: asyncpg.Pool,
) -> None:
    # given a due no-show timer whose handler needs the invitation's stream lock
    async with db.acquire() as conn:
        timer_id = await schedule(conn, "no_show", datetime.now(UTC), {"invitation_id": "inv-1"})
    waiting_for_the_stream = asyncio.Event()
    decided_on: list[str] = []

    async def record_no_show(conn: asyncpg.Connection, timer: Timer) -> None:
        waiting_for_the_stream.set()
        await lock(conn, "inv-1")  # a reaction queues behind the command on the stream
        decided_on.append(str(await conn.fetchval("select state from invitation_state")))

    async with db.acquire() as conn:
        await conn.execute("create table invitation_state (state text)")
        await conn.execute("insert into invitation_state values ('sent')")
    worker = TimerWorker(db, {"no_show": record_no_show})

    # when the interview is recorded (holding the stream) while the timer fires, and cancels it
    async with db.acquire() as command, command.transaction():
        await lock(command, "inv-1")
        firing = asyncio.create_task(worker.fire_one())
        await asyncio.wait_for(waiting_for_the_stream.wait(), 5)
        cancelled = await asyncio.wait_for(cancel(command, timer_id), 2)
        await command.execute("update invitation_state set state = 'honoured'")
    fired = await asyncio.wait_for(firing, 5)

    # then the cancel did not wait for the firing timer; its handler decided on the honoured state
    assert cancelled is False and fired is True
    assert decided_on == ["honoured"]


async def test_the_timer_worker_comes_back_after_the_database_cut_its_connection_mid_timer(
    db: asyncpg.Pool, database_url: str
) -> None:
    fired: list[str] = []
    in_handler, cut = asyncio.Event(), asyncio.Event()

    async def remind(conn: asyncpg.Connection, timer: Timer) -> None:
        if not cut.is_set():
            in_handler.set()
            await cut.wait()  # the database fails over while this timer's transaction is open
        await conn.execute("select 1")
        fired.append(timer.payload["n"])

    supervisor = Supervisor("demo", Policy(Backoff(initial=0.05, ceiling=0.2)))
    supervisor.spawn("timers", TimerWorker(db, {"reminder": remind}, poll_interval=0.05).run)
    try:
        await _schedule(database_url, "before")
        await asyncio.wait_for(in_handler.wait(), 10)
        await _terminate_backends(database_url)
        cut.set()
        await _until(lambda: fired == ["before"])  # fired again by the restarted worker, once
        await _schedule(database_url, "after")
        await _until(lambda: fired == ["before", "after"])
    finally:
        await supervisor.stop()

    assert supervisor.workers["timers"].restarts >= 1
    assert supervisor.crash_looping() == []


async def _schedule(database_url: str, n: str) -> None:
    conn = await asyncpg.connect(database_url)  # not the pool under test, whose connections are cut
    try:
        await schedule(conn, "reminder", datetime.now(UTC), {"n": n})
    finally:
        await conn.close()


async def test_due_unfired_timers_are_reported_per_kind_with_the_age_of_the_oldest(db: asyncpg.Pool) -> None:
    async with db.acquire() as conn:
        await schedule(conn, "referral_deadline", datetime.now(UTC) - timedelta(minutes=10), {})
        await schedule(conn, "referral_deadline", datetime.now(UTC) - timedelta(minutes=1), {})
        await schedule(conn, "referral_deadline", datetime.now(UTC) + timedelta(days=1), {})
    worker = TimerWorker(db, {"referral_deadline": _never, "no_show": _never})

    await worker.report_overdue()

    due = REGISTRY.get_sample_value("icam_timers_overdue", {"kind": "referral_deadline"})
    age = REGISTRY.get_sample_value("icam_timers_overdue_seconds", {"kind": "referral_deadline"})
    assert due == 2 and age is not None and 590 < age < 700
    assert REGISTRY.get_sample_value("icam_timers_overdue", {"kind": "no_show"}) == 0


async def _never(conn: asyncpg.Connection, timer: Timer) -> None:
    raise AssertionError("not fired in this test")


async def _until(check: object, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not check():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def _terminate_backends(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """select pg_terminate_backend(pid) from pg_stat_activity
               where datname = current_database() and pid <> pg_backend_pid()"""
        )
    finally:
        await conn.close()
