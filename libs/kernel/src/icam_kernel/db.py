"""The connection type the kernel accepts (a plain asyncpg connection or one from a pool), and the
kernel's pool (ADR 0017).

asyncpg's pool resets every connection it takes back with a query of its own (`select
pg_advisory_unlock_all(); close all; unlisten *; reset all`): one more round trip, and a quarter
of the database's work, for each append made through a pool. The kernel's pool skips it for a
connection that kept no session state, which is nearly all of them: the kernel's statements use
transaction-scoped locks and settings only. The few places that do keep state in a session (a
session advisory lock, `set search_path`, `LISTEN`) call `keeps_session_state(conn)` first, and
that connection is reset in full on release, as asyncpg would. An open transaction is rolled back
on release either way (asyncpg does that before any reset).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeAlias, TypeGuard

import asyncpg
from asyncpg.pool import PoolConnectionProxy

if TYPE_CHECKING:
    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
    _Base = asyncpg.Connection[Any]
else:  # asyncpg's classes are generic only in its stubs
    Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
    _Base = asyncpg.Connection


class KernelConnection(_Base):
    """A pooled connection that knows whether it kept session state since it was last reset."""

    # a fresh connection has none; `keeps_session_state` or a listener sets it
    session_state = False

    async def add_listener(self, channel: str, callback: Any) -> None:
        self.session_state = True  # LISTEN lasts as long as the session
        await super().add_listener(channel, callback)


def keeps_session_state(conn: Connection) -> None:
    """Say that `conn` is about to keep state beyond its transaction (a session advisory lock, a
    `set` outside a transaction): the kernel's pool then resets it in full when it is released."""
    raw = getattr(conn, "_con", None) if isinstance(conn, PoolConnectionProxy) else conn  # the proxied one
    if _is_kernel(raw):
        raw.session_state = True


def _is_kernel(conn: Any) -> TypeGuard[KernelConnection]:
    # not `isinstance`: asyncpg's metaclass makes every asyncpg connection an instance of any subclass
    return issubclass(type(conn), KernelConnection)


async def _reset(conn: asyncpg.Connection[Any]) -> None:
    """The pool's reset: asyncpg's query only for a connection that kept session state (or that is
    not the kernel's, which cannot say)."""
    if _is_kernel(conn) and not conn.session_state:
        return
    query = conn.get_reset_query()
    if query:
        await conn.execute(query)
    if _is_kernel(conn):
        conn.session_state = False


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10, **kwargs: Any) -> asyncpg.Pool:
    """An asyncpg pool of `KernelConnection`s, reset on release only when they kept session state."""
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, connection_class=KernelConnection, reset=_reset, **kwargs
    )
    assert pool is not None
    return pool
