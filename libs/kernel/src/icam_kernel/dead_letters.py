"""Dead letters: list, show and replay the events a consumer gave up on.

Replay removes the event's inbox mark and republishes the original record (key, value, headers)
to its source topic, so the consumer — fixed and redeployed — processes it through its normal
path. Other consumer groups of that topic see a duplicate, which their inboxes skip.
`replay_in_process` instead runs a given consumer's handler directly (tests, one-off scripts).

    python -m icam_kernel.dead_letters list --database-url URL [--consumer C]
    python -m icam_kernel.dead_letters show --database-url URL ID
    python -m icam_kernel.dead_letters replay --database-url URL --bootstrap HOST:PORT ID
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

import asyncpg
from aiokafka import AIOKafkaProducer

from icam_kernel.db import Connection
from icam_kernel.inbox import IdempotentConsumer, Outcome

_COLUMNS = """id, consumer, topic, "partition", "offset", event_id::text as event_id, event_type, key, value,
    headers::text as headers, error_type, error_message, attempts, created_at, replayed_at"""


def _as_dict(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["headers"] = json.loads(item["headers"])
    for key in ("created_at", "replayed_at"):
        item[key] = item[key].isoformat() if item[key] else None
    return item


async def list_dead_letters(
    conn: Connection, consumer: str | None = None, *, include_replayed: bool = False
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"""select {_COLUMNS} from dead_letters
            where ($1::text is null or consumer = $1) and ($2 or replayed_at is null) order by id""",
        consumer,
        include_replayed,
    )
    return [_as_dict(r) for r in rows]


async def show_dead_letter(conn: Connection, dead_letter_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"select {_COLUMNS} from dead_letters where id = $1", dead_letter_id)
    return None if row is None else _as_dict(row)


async def _take_for_replay(conn: Connection, dead_letter_id: int) -> dict[str, Any]:
    """Mark replayed and drop the inbox mark, in the caller's transaction."""
    row = await conn.fetchrow(
        f"select {_COLUMNS} from dead_letters where id = $1 and replayed_at is null for update",
        dead_letter_id,
    )
    if row is None:
        raise LookupError(f"no dead letter {dead_letter_id} waiting for replay")
    item = _as_dict(row)
    if item["event_id"] is not None:
        await conn.execute(
            "delete from inbox where consumer = $1 and event_id = $2::uuid",
            item["consumer"],
            item["event_id"],
        )
    await conn.execute("update dead_letters set replayed_at = now() where id = $1", dead_letter_id)
    return item


async def replay(pool: asyncpg.Pool, dead_letter_id: int, producer: AIOKafkaProducer) -> dict[str, Any]:
    """Republish the original record to its source topic, once the broker acknowledged it."""
    async with pool.acquire() as conn, conn.transaction():
        item = await _take_for_replay(conn, dead_letter_id)
        await producer.send_and_wait(
            item["topic"],
            item["value"].encode(),
            key=item["key"].encode() if item["key"] is not None else None,
            headers=[(k, v.encode()) for k, v in item["headers"].items()],
        )
    return item


async def replay_in_process(pool: asyncpg.Pool, dead_letter_id: int, consumer: IdempotentConsumer) -> Outcome:
    """Run `consumer`'s handler on the dead letter through the inbox; a failure keeps it waiting."""
    async with pool.acquire() as conn, conn.transaction():
        item = await _take_for_replay(conn, dead_letter_id)
    try:
        return await consumer.handle_once(await consumer.parse(item["value"].encode()))
    except BaseException:
        async with pool.acquire() as conn:
            await conn.execute("update dead_letters set replayed_at = null where id = $1", dead_letter_id)
        raise


async def _run(args: argparse.Namespace) -> int:
    pool = await asyncpg.create_pool(args.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        async with pool.acquire() as conn:
            if args.command == "list":
                for item in await list_dead_letters(conn, args.consumer, include_replayed=args.all):
                    item.pop("value")
                    print(json.dumps(item))
                return 0
            if args.command == "show":
                found = await show_dead_letter(conn, args.id)
                print(json.dumps(found, indent=2))
                return 0 if found else 1
        producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            item = await replay(pool, args.id, producer)
        finally:
            await producer.stop()
        print(json.dumps({"replayed": item["id"], "topic": item["topic"], "event_id": item["event_id"]}))
        return 0
    finally:
        await pool.close()


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(prog="icam-dead-letters", description="List, show and replay dead letters.")
    cli.add_argument("command", choices=["list", "show", "replay"])
    cli.add_argument("id", nargs="?", type=int, help="dead letter id (show, replay)")
    cli.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    cli.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    cli.add_argument("--consumer", help="only this consumer's dead letters (list)")
    cli.add_argument("--all", action="store_true", help="include replayed ones (list)")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.database_url:
        parser().error("--database-url or DATABASE_URL is required")
    if args.command in ("show", "replay") and args.id is None:
        parser().error(f"{args.command} needs a dead letter id")
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
