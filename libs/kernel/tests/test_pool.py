"""The kernel's pool (ADR 0017): no reset query for a connection without session state, a full
reset for one that kept some, an open transaction rolled back either way."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from icam_kernel import db

pytestmark = pytest.mark.integration

_MY_ADVISORY_LOCKS = "select count(*) from pg_locks where locktype = 'advisory' and pid = pg_backend_pid()"


@pytest.fixture
async def one(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool of one connection: every acquire gets the same session back."""
    pool = await db.create_pool(database_url, min_size=1, max_size=1)
    yield pool
    await pool.close()


async def test_a_connection_without_session_state_is_handed_back_without_a_reset_query(
    one: asyncpg.Pool,
) -> None:
    async with one.acquire() as conn:
        pid = await conn.fetchval("select pg_backend_pid()")
        await conn.execute("select set_config('application_name', 'marker', false)")
    async with one.acquire() as conn:
        # same session, and no `reset all` ran in between: what it set is still there
        assert await conn.fetchval("select pg_backend_pid()") == pid
        assert await conn.fetchval("show application_name") == "marker"


async def test_a_connection_that_kept_session_state_is_reset_in_full(one: asyncpg.Pool) -> None:
    async with one.acquire() as conn:
        db.keeps_session_state(conn)
        await conn.execute("select pg_advisory_lock(42)")
        await conn.execute("set search_path to pg_catalog")
        await conn.execute("listen somewhere")
    async with one.acquire() as conn:
        assert await conn.fetchval(_MY_ADVISORY_LOCKS) == 0
        assert await conn.fetchval("show search_path") == '"$user", public'
        assert await conn.fetchval("select count(*) from pg_listening_channels()") == 0
    async with one.acquire() as conn:  # and the next release is cheap again
        assert type(conn._con) is db.KernelConnection
        assert conn._con.session_state is False


@pytest.mark.filterwarnings("ignore:.*active notification listener")
async def test_a_listener_counts_as_session_state(one: asyncpg.Pool) -> None:
    async with one.acquire() as conn:
        await conn.add_listener("somewhere", lambda *_: None)
    async with one.acquire() as conn:
        assert await conn.fetchval("select count(*) from pg_listening_channels()") == 0


async def test_an_open_transaction_is_rolled_back_on_release(one: asyncpg.Pool) -> None:
    async with one.acquire() as conn:
        await conn.execute("create table t (n int)")
        await conn.execute("begin")
        await conn.execute("insert into t values (1)")
    async with one.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("select count(*) from t") == 0


async def test_a_plain_asyncpg_pool_is_left_as_it_is(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            db.keeps_session_state(conn)  # nothing to say to asyncpg's own pool: it resets anyway
            await conn.execute("select pg_advisory_lock(42)")
        async with pool.acquire() as conn:
            assert await conn.fetchval(_MY_ADVISORY_LOCKS) == 0
    finally:
        await pool.close()
