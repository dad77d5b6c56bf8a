"""Kernel test fixtures on top of the icam_testing plugin's real servers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from icam_kernel.migrations import apply_migrations


@pytest.fixture
async def db(pg_pool: asyncpg.Pool) -> asyncpg.Pool:
    """A fresh database with the kernel's tables."""
    await apply_migrations(pg_pool)
    return pg_pool


@pytest.fixture
async def conn(db: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with db.acquire() as connection:
        yield connection
