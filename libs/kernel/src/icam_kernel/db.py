"""The connection type the kernel accepts: a plain asyncpg connection or one from a pool."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
else:  # asyncpg's classes are generic only in its stubs
    Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
