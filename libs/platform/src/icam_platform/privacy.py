"""`icam privacy seal-existing`: seal what the platform stored in clear before sealing existed
(ADR 0013) — every service's store, read-model copies and dead letters in place, verified; sealed
copies published again; with `--delete-clear-records`, the clear records deleted from the topics
once every consumer group has read past them."""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path

import asyncpg
from aiokafka import TopicPartition

from icam_auth import Principal, Role
from icam_contracts.topics import publications
from icam_kernel.keyring import HttpKeyring
from icam_kernel.sealing import Vault
from icam_kernel.sealing_migration import (
    copies_missing,
    delete_below,
    lagging_groups,
    seal_existing,
    watermarks,
)
from icam_platform import platform
from icam_platform.infra import manager
from icam_platform.settings import InfraSettings


def register_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    privacy = commands.add_parser("privacy", help="personal data: sealing of data stored in clear")
    subcommands = privacy.add_subparsers(dest="privacy_command", required=True)
    seal = subcommands.add_parser("seal-existing", help="seal every clear event of every service")
    seal.add_argument(
        "--delete-clear-records", action="store_true", help="then delete the clear records from the topics"
    )
    seal.add_argument("--wait", type=float, default=300.0, help="seconds to wait for relays and consumers")
    seal.set_defaults(func=seal_existing_command)


def seal_existing_command(args: argparse.Namespace) -> int:
    settings = InfraSettings.from_env(Path(args.home) if args.home else None)
    return asyncio.run(_seal_all(settings, args.delete_clear_records, args.wait))


async def _seal_all(settings: InfraSettings, delete: bool, wait: float) -> int:
    endpoints = manager.up(settings)
    peers = {s.name: s for s in platform.services()}
    token = platform.local_issuer(settings).mint(Principal("icam-migration", Role.SERVICE), ttl_seconds=3600)
    vault = Vault(HttpKeyring(peers["privacy"].url, token))
    prefix = os.environ.get("ICAM_TOPIC_PREFIX", "")
    for name in platform.SEALING:
        [topic] = [prefix + t.name for t in publications(name)]
        marks = await watermarks(endpoints.kafka_bootstrap, topic)
        pool = await asyncpg.create_pool(endpoints.database_for(name), min_size=1, max_size=2)
        try:
            report = await seal_existing(pool, vault, topic=topic)
            print(
                f"{name:<13} sealed {report.sealed}, unchanged {report.already}, queued {report.republished}"
            )
            if delete and not await _deleted(pool, endpoints.kafka_bootstrap, marks, wait):
                return 1
        finally:
            await pool.close()
    return 0


async def _deleted(pool: asyncpg.Pool, bootstrap: str, marks: dict[TopicPartition, int], wait: float) -> bool:
    """Delete below the marks once the relay published the copies and every group read past."""
    deadline = time.monotonic() + wait
    while await pool.fetchval("select count(*) from outbox") or await lagging_groups(bootstrap, marks):
        if time.monotonic() > deadline:
            print("  not deleted: the relay or a consumer group is behind (is the service running?)")
            return False
        await asyncio.sleep(1.0)
    if missing := await copies_missing(pool, bootstrap, marks):
        print(f"  not deleted: {missing} sealed events have no copy on the topic yet; run it again")
        return False
    await delete_below(bootstrap, marks)
    print(f"  clear records deleted below {sum(marks.values())} offsets")
    return True
