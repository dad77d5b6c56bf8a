"""Dead letters: list, show, replay or discard the events a consumer gave up on.

Replay removes the event's inbox mark and republishes the original record (key, value, headers)
to its source topic, so the consumer — fixed and redeployed — processes it through its normal
path. Other consumer groups of that topic see a duplicate, which their inboxes skip.
`replay_in_process` instead runs a given consumer's handler directly (tests, one-off scripts).
Discard gives up on the event for good (it stays marked in the inbox, never applied).

A dead letter holds back the later events of its stream in its consumer (`icam_kernel.sequencing`):
`list` shows how many are parked behind each, `parked` lists them; once the dead letter is
handled after a replay, or discarded, they are applied in order. `refused` lists the outbox rows
the broker refused (too large for the topic); `republish` puts one back in the outbox once the
topic's limit allows it.

    python -m icam_kernel.dead_letters list --database-url URL [--consumer C]
    python -m icam_kernel.dead_letters show --database-url URL ID
    python -m icam_kernel.dead_letters replay --database-url URL --bootstrap HOST:PORT ID
    python -m icam_kernel.dead_letters discard --database-url URL ID
    python -m icam_kernel.dead_letters parked --database-url URL [--consumer C]
    python -m icam_kernel.dead_letters refused --database-url URL
    python -m icam_kernel.dead_letters republish --database-url URL POSITION
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
    headers::text as headers, error_type, error_message, attempts, created_at, replayed_at, resolved_at,
    discarded_at, (select count(*) from parked_events p
                   where p.consumer = d.consumer and p.key = d.key and d.resolved_at is null) as parked"""


def _as_dict(row: asyncpg.Record) -> dict[str, Any]:
    item = dict(row)
    item["headers"] = json.loads(item["headers"])
    for key in ("created_at", "replayed_at", "resolved_at", "discarded_at"):
        item[key] = item[key].isoformat() if item[key] else None
    return item


async def list_dead_letters(
    conn: Connection, consumer: str | None = None, *, include_replayed: bool = False
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        f"""select {_COLUMNS} from dead_letters d
            where ($1::text is null or consumer = $1) and ($2 or resolved_at is null)
            order by id""",
        consumer,
        include_replayed,
    )
    return [_as_dict(r) for r in rows]


async def show_dead_letter(conn: Connection, dead_letter_id: int) -> dict[str, Any] | None:
    row = await conn.fetchrow(f"select {_COLUMNS} from dead_letters d where id = $1", dead_letter_id)
    return None if row is None else _as_dict(row)


async def _take_for_replay(conn: Connection, dead_letter_id: int) -> dict[str, Any]:
    """Mark replayed and drop the inbox mark, in the caller's transaction."""
    row = await conn.fetchrow(
        f"""select {_COLUMNS} from dead_letters d
            where id = $1 and replayed_at is null and discarded_at is null for update""",
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


async def discard(conn: Connection, dead_letter_id: int) -> dict[str, Any]:
    """Give up on the event for good: it is never applied, and its stream flows again."""
    row = await conn.fetchrow(
        f"""update dead_letters d set discarded_at = now(), resolved_at = coalesce(resolved_at, now())
            where id = $1 and discarded_at is null and (replayed_at is null or resolved_at is null)
            returning {_COLUMNS}""",
        dead_letter_id,
    )
    if row is None:
        raise LookupError(f"no dead letter {dead_letter_id} to discard")
    return _as_dict(row)


async def list_parked(conn: Connection, consumer: str | None = None) -> list[dict[str, Any]]:
    """Events held back behind a dead letter of their stream, oldest first (no payloads)."""
    rows = await conn.fetch(
        """select id, consumer, key, event_id::text as event_id, event_type, topic, "partition",
                  "offset", parked_at from parked_events
           where ($1::text is null or consumer = $1) order by id""",
        consumer,
    )
    return [{**dict(r), "parked_at": r["parked_at"].isoformat()} for r in rows]


async def list_refused(conn: Connection) -> list[dict[str, Any]]:
    """Outbox rows the broker refused for good, with the event they carry (no payloads)."""
    rows = await conn.fetch(
        """select r.position, r.topic, r.reason, r.size_bytes, r.refused_at, r.republished_at,
                  e.event_id::text as event_id, e.event_type, e.stream_id
           from outbox_refused r join events e on e.global_position = r.position order by r.position"""
    )
    return [
        {**dict(r), "refused_at": r["refused_at"].isoformat(),
         "republished_at": r["republished_at"].isoformat() if r["republished_at"] else None}
        for r in rows
    ]  # fmt: skip


async def republish_refused(conn: Connection, position: int) -> None:
    """Put a refused event back in the outbox (after the topic's limit was raised)."""
    async with conn.transaction():
        topic = await conn.fetchval(
            "update outbox_refused set republished_at = now() where position = $1"
            " and republished_at is null returning topic",
            position,
        )
        if topic is None:
            raise LookupError(f"no refused outbox row at position {position}")
        await conn.execute("insert into outbox (position, topic) values ($1, $2)", position, topic)


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


async def _read(conn: Connection, args: argparse.Namespace) -> int:
    """The commands that only read or change the database."""
    if args.command == "list":
        for item in await list_dead_letters(conn, args.consumer, include_replayed=args.all):
            item.pop("value")
            print(json.dumps(item))
    elif args.command == "show":
        found = await show_dead_letter(conn, args.id)
        print(json.dumps(found, indent=2))
        return 0 if found else 1
    elif args.command == "discard":
        item = await discard(conn, args.id)
        print(json.dumps({"discarded": item["id"], "event_id": item["event_id"], "parked": item["parked"]}))
    elif args.command == "parked":
        for parked in await list_parked(conn, args.consumer):
            print(json.dumps(parked))
    elif args.command == "refused":
        for refused in await list_refused(conn):
            print(json.dumps(refused))
    elif args.command == "republish":
        await republish_refused(conn, args.id)
        print(json.dumps({"republished": args.id}))
    return 0


async def _run(args: argparse.Namespace) -> int:
    pool = await asyncpg.create_pool(args.database_url, min_size=1, max_size=2)
    assert pool is not None
    try:
        if args.command != "replay":
            async with pool.acquire() as conn:
                return await _read(conn, args)
        producer = AIOKafkaProducer(bootstrap_servers=args.bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            item = await replay(pool, args.id, producer)
        finally:
            await producer.stop()
        print(json.dumps({"replayed": item["id"], "topic": item["topic"], "event_id": item["event_id"]}))
        return 0
    except LookupError as missing:
        print(str(missing), file=sys.stderr)
        return 1
    finally:
        await pool.close()


COMMANDS = ("list", "show", "replay", "discard", "parked", "refused", "republish")
NEEDS_ID = ("show", "replay", "discard", "republish")


def parser() -> argparse.ArgumentParser:
    cli = argparse.ArgumentParser(
        prog="icam-dead-letters",
        description="List, show, replay or discard dead letters; list parked events and refused outbox rows.",
    )
    cli.add_argument("command", choices=COMMANDS)
    cli.add_argument("id", nargs="?", type=int, help="dead letter id, or outbox position (republish)")
    cli.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    cli.add_argument("--bootstrap", default=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"))
    cli.add_argument("--consumer", help="only this consumer's (list, parked)")
    cli.add_argument("--all", action="store_true", help="include replayed and resolved ones (list)")
    return cli


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not args.database_url:
        parser().error("--database-url or DATABASE_URL is required")
    if args.command in NEEDS_ID and args.id is None:
        parser().error(f"{args.command} needs an id")
    return asyncio.run(_run(args))


if __name__ == "__main__":
    sys.exit(main())
