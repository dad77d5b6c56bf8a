"""A relay in a process of its own, for tests that kill it with SIGKILL (not a test module).

    python relay_process.py DATABASE_URL BOOTSTRAP TOPIC LINGER_MS

It prints `sent N` after handing the N-th record to its producer, so that a test can kill it at a
known point; nothing else in it differs from a service's relay.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from icam_kernel.outbox import OutboxRelay, published_reader


class AnnouncingProducer(AIOKafkaProducer):  # type: ignore[misc]
    sent = 0

    async def send(self, *args: Any, **kwargs: Any) -> Any:
        future = await super().send(*args, **kwargs)
        AnnouncingProducer.sent += 1
        print(f"sent {AnnouncingProducer.sent}", flush=True)
        return future


async def main(database_url: str, bootstrap: str, topic: str, linger_ms: int) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    producer = lambda: AnnouncingProducer(  # noqa: E731
        bootstrap_servers=bootstrap, enable_idempotence=True, acks="all", linger_ms=linger_ms
    )
    relay = OutboxRelay(pool, topic, producer_factory=producer, published=published_reader(bootstrap))
    print("started", flush=True)
    await relay.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])))
