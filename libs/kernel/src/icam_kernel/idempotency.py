"""Idempotent commands: an `Idempotency-Key` header, or a client-chosen id, names one request.

The first request under a key claims it (a row in `idempotency_keys`, in the command's own
transaction, so a refused command leaves no claim behind) and stores its result; a retry with the
same request gets that result again, also after a restart; a different request under the same key
is refused (422 `idempotency-key-reused`). Two retries racing each other queue on the row.
Records older than the retention window are purged (`purge_expired`, a background task).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from icam_kernel.db import Connection
from icam_kernel.errors import IdempotencyKeyReused

HEADER = "Idempotency-Key"


@dataclass(frozen=True)
class Key:
    """A request's key and the fingerprint of what it asked (method, path, body)."""

    key: str
    fingerprint: str
    field: str = HEADER

    @classmethod
    def of(cls, key: str, method: str, path: str, body: bytes, field: str = HEADER) -> Key:
        digest = hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()
        return cls(key, digest, field)


async def claim(conn: Connection, key: Key) -> dict[str, Any] | None:
    """Claim `key` for this transaction; the stored result when the same request was accepted
    before. Raises `IdempotencyKeyReused` for a different request under the same key."""
    claimed = await conn.fetchval(
        """insert into idempotency_keys (key, fingerprint) values ($1, $2)
           on conflict (key) do nothing returning true""",
        key.key,
        key.fingerprint,
    )
    if claimed:
        return None
    row = await conn.fetchrow(
        "select fingerprint, result::text as result from idempotency_keys where key = $1", key.key
    )
    assert row is not None
    if row["fingerprint"] != key.fingerprint or row["result"] is None:
        raise IdempotencyKeyReused(key.field)
    stored: dict[str, Any] = json.loads(row["result"])
    return stored


async def store(conn: Connection, key: Key, result: dict[str, Any]) -> None:
    await conn.execute("update idempotency_keys set result = $2 where key = $1", key.key, json.dumps(result))


async def purge_expired(conn: Connection, keep: timedelta) -> int:
    """Forget keys older than `keep`; return how many."""
    status = await conn.execute("delete from idempotency_keys where created_at < now() - $1::interval", keep)
    return int(status.split()[-1])
