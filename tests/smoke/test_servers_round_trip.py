"""The harness gives tests real servers: a message crosses the broker; a row survives a commit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
import pytest
from faststream.kafka import KafkaBroker
from pydantic import BaseModel

pytestmark = pytest.mark.integration


class InterviewScheduled(BaseModel):
    household_id: str
    office: str


async def test_a_pydantic_message_crosses_the_real_broker_to_a_consumer_group(
    kafka_bootstrap: str,
    kafka_topic: Callable[..., Awaitable[str]],
    unique_name: Callable[[str], str],
) -> None:
    topic = await kafka_topic("smoke", partitions=3)
    broker = KafkaBroker(kafka_bootstrap)
    received: asyncio.Queue[InterviewScheduled] = asyncio.Queue()

    @broker.subscriber(topic, group_id=unique_name("group"), auto_offset_reset="earliest")
    async def on_scheduled(message: InterviewScheduled) -> None:
        await received.put(message)

    async with broker:
        await broker.start()
        sent = InterviewScheduled(household_id="hh-1", office="brussels")
        await broker.publish(sent, topic, key=b"hh-1")
        got = await asyncio.wait_for(received.get(), timeout=30)

    assert got == sent


async def test_a_committed_row_is_read_back_from_a_fresh_database(pg_pool: asyncpg.Pool) -> None:
    async with pg_pool.acquire() as conn:
        assert await conn.fetchval("select count(*) from pg_tables where schemaname='public'") == 0
        await conn.execute("create table desk (name text primary key, opens text)")
        async with conn.transaction():
            await conn.execute("insert into desk values ('Liège', 'Wednesday 09:00')")
    async with pg_pool.acquire() as conn:
        assert await conn.fetchval("select opens from desk where name = $1", "Liège") == "Wednesday 09:00"


async def test_each_test_gets_its_own_database(database_url: str, postgres_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        name = await conn.fetchval("select current_database()")
    finally:
        await conn.close()
    assert name not in ("postgres", "template1")
