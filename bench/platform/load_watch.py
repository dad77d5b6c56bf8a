"""Watching the read models without loading the platform: one batched query per read model per tick.

Polling each journey's read model through the gateway every few milliseconds made the measurement
itself the heaviest load on the machine (thousands of requests per second for tens of commands).
The watcher reads the services' read-model tables directly instead — one query per table every
`interval` for all journeys still waiting — so the figure is the platform's propagation time, plus
at most one tick.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import asyncpg

# name -> (service database, query returning (key, row...) for the keys in $1 that satisfy it)
CONDITIONS: dict[str, tuple[str, str]] = {
    "case in caseload": (
        "case",
        "select household_id::text as key, case_id::text as case_id, status from caseload"
        " where household_id = any($1::uuid[])",
    ),
    "case closed": (
        "case",
        "select case_id::text as key, status from caseload"
        " where case_id = any($1::uuid[]) and status = 'closed'",
    ),
    "notification recorded": (
        "notification",
        "select distinct household_id::text as key from notifications where household_id = any($1::uuid[])",
    ),
    "invitation honoured": (
        "invitation",
        "select invitation_id::text as key from invitations"
        " where invitation_id = any($1::uuid[]) and status = 'honoured'",
    ),
    "referral in partner inbox": (
        "referral",
        "select case_id::text as key, referral_id::text as referral_id, partner from referral_view"
        " where case_id = any($1::uuid[]) and status in ('referred', 'acknowledged')",
    ),
}


@dataclass
class Waiter:
    future: asyncio.Future[tuple[dict[str, Any], float]]


class ReadModelWatcher:
    """`await watcher.until("case in caseload", household_id)` -> (row, moment it was first seen)."""

    def __init__(self, database_urls: dict[str, str], interval: float = 0.005) -> None:
        self.urls, self.interval = database_urls, interval
        self.pools: dict[str, asyncpg.Pool] = {}
        self.waiting: dict[str, dict[str, list[Waiter]]] = defaultdict(lambda: defaultdict(list))
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        for service in {db for db, _ in CONDITIONS.values()}:
            pool = await asyncpg.create_pool(self.urls[service], min_size=2, max_size=2)
            assert pool is not None
            self.pools[service] = pool
        self._task = asyncio.create_task(self._watch())

    async def backend_pids(self) -> list[int]:
        """The PostgreSQL backends serving the watcher's queries: their CPU is the bench's, not the
        platform's (polling every 5 ms, they are a visible share of the server's work)."""
        pids = []
        for pool in self.pools.values():
            connections = [await pool.acquire() for _ in range(pool.get_max_size())]
            pids += [c.get_server_pid() for c in connections]
            for conn in connections:
                await pool.release(conn)
        return pids

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        for pool in self.pools.values():
            await pool.close()

    async def until(self, condition: str, key: str, timeout: float = 60.0) -> tuple[dict[str, Any], float]:
        future: asyncio.Future[tuple[dict[str, Any], float]] = asyncio.get_running_loop().create_future()
        self.waiting[condition][key].append(Waiter(future))
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError as error:
            raise TimeoutError(f"{condition} for {key} not seen within {timeout:.0f}s") from error

    async def _watch(self) -> None:
        while True:
            await asyncio.gather(*(self._check(c) for c in list(self.waiting) if self.waiting[c]))
            await asyncio.sleep(self.interval)

    async def _check(self, condition: str) -> None:
        service, sql = CONDITIONS[condition]
        pending = self.waiting[condition]
        rows = await self.pools[service].fetch(sql, list(pending))
        seen = time.perf_counter()
        for row in rows:
            for waiter in pending.pop(row["key"], []):
                if not waiter.future.done():
                    waiter.future.set_result((dict(row), seen))


async def wait_quiet(database_urls: dict[str, str], timeout: float = 300.0) -> bool:
    """Until nothing is left in flight: every outbox published and no notification waiting to be
    sent. The consistency check compares a snapshot of the topics with the read models, so both
    must have stopped moving first."""
    # the event-sourced services have an outbox; the gateway's and the web's databases have none
    pools = [
        await asyncpg.connect(url) for name, url in database_urls.items() if name not in ("gateway", "web")
    ]
    notification = await asyncpg.connect(database_urls["notification"])
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            backlog = sum([await conn.fetchval("select count(*) from outbox") for conn in pools])
            pending = await notification.fetchval(
                "select count(*) from notifications where status in ('pending', 'retrying')"
            )
            if backlog == 0 and pending == 0:
                return True
            await asyncio.sleep(0.5)
        return False
    finally:
        for conn in [*pools, notification]:
            await conn.close()
