"""Sealing's cost: append and relay with personal data sealed vs in clear, side by side in one run.

    uv run python bench/kernel/bench_sealing.py [--scale 1.0] [--rounds 3]

The events are InvitationSent with two members (names, contact details, address) — what the
platform writes most. Sealed runs use the kernel's Vault over a CachedKeyring, as a service does
(the keys come from memory here: the privacy service's HTTP round trip happens once per household
and minute and is measured by the platform bench). Rounds alternate clear and sealed so drift of
the shared machine falls on both; the ratio is the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
import uuid
from typing import Any

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from icam_contracts.events import InvitationSent
from icam_contracts.jsonschema_export import example_payload
from icam_kernel import sealing
from icam_kernel.events import Actor, NewEvent
from icam_kernel.keyring import CachedKeyring, LocalKeyring
from icam_kernel.migrations import apply_migrations
from icam_kernel.outbox import OutboxRelay
from icam_kernel.sealing import Vault
from icam_kernel.store import EventStore, ExpectedVersion
from icam_platform.infra import postgres
from icam_testing import servers

ACTOR = Actor("icam-bench", "system", "immigration_office")


def invitation() -> NewEvent:
    data = example_payload(InvitationSent)
    data["household_id"] = str(uuid.uuid4())
    for i, member in enumerate(data["members"]):
        member["person_id"] = f"OE{uuid.uuid4().hex[:10]}{i}"
    return NewEvent(InvitationSent.event_type, InvitationSent.event_version, data, ACTOR, str(uuid.uuid4()))


async def appends(pool: asyncpg.Pool, store: EventStore, writers: int, per_writer: int) -> float:
    async def writer() -> None:
        for _ in range(per_writer):
            async with pool.acquire() as conn:
                await store.append(conn, f"inv-{uuid.uuid4()}", [invitation()], ExpectedVersion.NO_STREAM)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    return writers * per_writer / (time.perf_counter() - started)


async def relay(pool: asyncpg.Pool, bootstrap: str, topic: str) -> float:
    backlog = await pool.fetchval("select count(*) from outbox")
    relay = OutboxRelay(pool, topic, bootstrap=bootstrap)
    started = time.perf_counter()
    task = asyncio.create_task(relay.run())
    while relay.published < backlog:  # noqa: ASYNC110 - polling a counter is the measurement
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - started
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return float(backlog / elapsed)


async def one_round(pool: asyncpg.Pool, bootstrap: str, vault: Vault | None, n: int) -> dict[str, float]:
    topic = f"bench-sealing-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    await admin.create_topics([NewTopic(topic, 6, 1)])
    await admin.close()
    store = EventStore(topic, vault=vault)
    return {
        "append, 1 writer": await appends(pool, store, 1, n),
        "append, 8 writers": await appends(pool, store, 8, n // 4),
        "relay": await relay(pool, bootstrap, topic),
    }


async def main(provided: servers.Servers, scale: float, rounds: int) -> None:
    sealing.install(None)  # the clear rounds use no vault at all
    n = max(100, int(1000 * scale))
    name = f"bench_sealing_{uuid.uuid4().hex[:8]}"
    url = await postgres.ensure_database(provided.database_url, name)
    pool = await asyncpg.create_pool(url, min_size=8, max_size=8)
    assert pool is not None
    vault = Vault(CachedKeyring(LocalKeyring(), ttl=60))
    figures: dict[str, dict[str, list[float]]] = {"clear": {}, "sealed": {}}
    try:
        await apply_migrations(pool)
        for _ in range(rounds):
            for mode, used in (("clear", None), ("sealed", vault)):
                for step, rate in (await one_round(pool, provided.kafka_bootstrap, used, n)).items():
                    figures[mode].setdefault(step, []).append(rate)
    finally:
        await pool.close()
        await postgres.drop_database(provided.database_url, name)
    print_figures(figures)


def print_figures(figures: dict[str, Any]) -> None:
    print(f"{'step':<20}{'clear /s':>12}{'sealed /s':>12}  sealed/clear (median of rounds)")
    for step, clear in figures["clear"].items():
        sealed = figures["sealed"][step]
        ratio = statistics.median(s / c for s, c in zip(sealed, clear, strict=True))
        print(f"{step:<20}{statistics.median(clear):>12,.0f}{statistics.median(sealed):>12,.0f}  {ratio:.2f}")


if __name__ == "__main__":
    cli = argparse.ArgumentParser()
    cli.add_argument("--scale", type=float, default=1.0)
    cli.add_argument("--rounds", type=int, default=3)
    args = cli.parse_args()
    with servers.provide() as provided:
        asyncio.run(main(provided, args.scale, args.rounds))
