"""Key custody: issue a subject's live key (creating it on first use), release keys by id, destroy
a subject's keys on erasure, and the audit row of every access."""

from __future__ import annotations

import os
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from icam_auth import Principal
from icam_kernel.db import Connection
from icam_privacy.kek import KeyEncryptionKey


@dataclass(frozen=True)
class Released:
    """A key as handed out: its secret, or None once destroyed (or never known)."""

    key_id: uuid.UUID
    subject: str | None
    secret: bytes | None


_LIVE = "select key_id, subject, wrapped from data_keys where subject = any($1) and destroyed_at is null"


async def issue(conn: Connection, kek: KeyEncryptionKey, subjects: Collection[str]) -> list[Released]:
    """The live key of each subject; a subject without one gets a new key (concurrent first uses
    agree on one: the unique index on live subjects decides)."""
    wanted = sorted(set(subjects))
    rows = {r["subject"]: r for r in await conn.fetch(_LIVE, wanted)}
    for subject in (s for s in wanted if s not in rows):
        key_id = uuid.uuid4()
        await conn.execute(
            """insert into data_keys (key_id, subject, wrapped, kek_id) values ($1, $2, $3, $4)
               on conflict (subject) where destroyed_at is null do nothing""",
            key_id,
            subject,
            kek.wrap(key_id, os.urandom(32)),
            kek.kek_id,
        )
    rows = {r["subject"]: r for r in await conn.fetch(_LIVE, wanted)}
    return [Released(rows[s]["key_id"], s, kek.unwrap(rows[s]["key_id"], rows[s]["wrapped"])) for s in wanted]


async def release(conn: Connection, kek: KeyEncryptionKey, key_ids: Collection[uuid.UUID]) -> list[Released]:
    """The keys asked for, destroyed or unknown ones without their secret."""
    rows = {
        r["key_id"]: r
        for r in await conn.fetch(
            "select key_id, subject, wrapped from data_keys where key_id = any($1)", list(key_ids)
        )
    }
    return [
        Released(k, rows[k]["subject"], kek.unwrap(k, rows[k]["wrapped"]))
        if k in rows and rows[k]["wrapped"] is not None
        else Released(k, rows[k]["subject"] if k in rows else None, None)
        for k in key_ids
    ]


async def live_key_ids(conn: Connection, subjects: Collection[str]) -> list[uuid.UUID]:
    return [r["key_id"] for r in await conn.fetch(_LIVE, list(subjects))]


async def destroy(conn: Connection, subjects: Collection[str]) -> int:
    """Destroy every live key of these subjects, for good: the wrapped secret is overwritten."""
    status = await conn.execute(
        """update data_keys set wrapped = null, destroyed_at = now()
           where subject = any($1) and destroyed_at is null""",
        list(subjects),
    )
    return int(status.rsplit(" ", 1)[-1])


async def audit(
    conn: Connection,
    who: Principal,
    operation: str,
    purpose: str | None,
    keys: Sequence[Released],
    *,
    granted: bool = True,
) -> None:
    """One row per request: who, what for, how many keys (and how many were destroyed), which."""
    await conn.execute(
        """insert into key_access (caller, role, organisation, operation, purpose, granted, keys,
               destroyed, key_ids) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)""",
        who.subject,
        who.role.value,
        who.organisation,
        operation,
        purpose,
        granted,
        len(keys),
        sum(k.secret is None for k in keys),
        [k.key_id for k in keys],
    )
