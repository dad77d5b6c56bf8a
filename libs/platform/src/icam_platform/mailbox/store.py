"""The mailbox's own store: one SQLite file under the platform's state folder, kept across restarts.

Every e-mail is kept as it arrived, duplicates included (a real mailbox does not deduplicate on
Message-ID either, so a resend after a crash shows as a second copy). An SMS is kept once per
Idempotency-Key and a letter once per notification id, as the notification service's providers
promise.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Kind = Literal["email", "sms", "letter"]
KINDS: tuple[Kind, ...] = ("email", "sms", "letter")

_SCHEMA = """
create table if not exists messages (
    id              integer primary key autoincrement,
    kind            text not null check (kind in ('email', 'sms', 'letter')),
    received_at     text not null,
    recipient       text not null,
    sender          text,
    subject         text,
    language        text,
    notification_id text,
    message_id      text,
    body            text not null default '',
    html            text,
    headers         text not null default '[]',
    raw             blob,
    dedupe_key      text unique
);
create table if not exists attachments (
    message     integer not null references messages (id),
    position    integer not null,
    filename    text not null,
    content_type text not null,
    content     blob not null,
    primary key (message, position)
);
"""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True)
class Delivery:
    """One message as a sink received it."""

    kind: Kind
    recipient: str
    body: str
    subject: str | None = None
    language: str | None = None
    notification_id: str | None = None
    sender: str | None = None
    message_id: str | None = None
    html: str | None = None
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw: bytes | None = None
    dedupe_key: str | None = None
    attachments: list[Attachment] = field(default_factory=list)


class MailStore:
    """Thread-safe access to the mailbox file (the sinks write from the event loop via threads)."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / "mailbox.sqlite3"
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("pragma journal_mode=wal")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("begin immediate")
            try:
                yield self._db
            except BaseException:
                self._db.execute("rollback")
                raise
            self._db.execute("commit")

    def add(self, delivery: Delivery) -> tuple[int, bool]:
        """Store `delivery`; (its id, True) — or (the earlier copy's id, False) for a repeated key."""
        with self._transaction() as db:
            if delivery.dedupe_key is not None:
                earlier = db.execute(
                    "select id from messages where dedupe_key = ?", (delivery.dedupe_key,)
                ).fetchone()
                if earlier is not None:
                    return int(earlier["id"]), False
            message = _insert_message(db, delivery)
            for position, attachment in enumerate(delivery.attachments):
                db.execute(
                    "insert into attachments values (?, ?, ?, ?, ?)",
                    (message, position, attachment.filename, attachment.content_type, attachment.content),
                )
        return message, True

    def copies_of(self, message_id: str) -> int:
        """How many e-mails with this Message-ID arrived (a resend after a crash is a second)."""
        with self._lock:
            row = self._db.execute(
                "select count(*) as n from messages where kind = 'email' and message_id = ?", (message_id,)
            ).fetchone()
        return int(row["n"])

    def has(self, dedupe_key: str) -> bool:
        with self._lock:
            row = self._db.execute("select 1 from messages where dedupe_key = ?", (dedupe_key,)).fetchone()
        return row is not None

    def list(
        self, kind: Kind | None = None, limit: int = 50, before: int | None = None
    ) -> list[dict[str, Any]]:
        """Summaries, newest first; `before` pages on by id."""
        query = "select * from messages where (? is null or kind = ?) and (? is null or id < ?)"
        with self._lock:
            rows = self._db.execute(
                query + " order by id desc limit ?", (kind, kind, before, before, limit)
            ).fetchall()
            return [self._summary(row) for row in rows]

    def get(self, message: int) -> dict[str, Any] | None:
        """Everything about one message (without the raw bytes)."""
        with self._lock:
            row = self._db.execute("select * from messages where id = ?", (message,)).fetchone()
            if row is None:
                return None
            detail = self._summary(row)
        detail.update(
            sender=row["sender"],
            message_id=row["message_id"],
            body=row["body"],
            html=row["html"],
            headers=json.loads(row["headers"]),
        )
        return detail

    def raw(self, message: int) -> bytes | None:
        with self._lock:
            row = self._db.execute("select raw from messages where id = ?", (message,)).fetchone()
        return bytes(row["raw"]) if row is not None and row["raw"] is not None else None

    def attachment(self, message: int, position: int) -> Attachment | None:
        with self._lock:
            row = self._db.execute(
                "select filename, content_type, content from attachments where message = ? and position = ?",
                (message, position),
            ).fetchone()
        return Attachment(row["filename"], row["content_type"], bytes(row["content"])) if row else None

    def counts(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("select kind, count(*) as n from messages group by kind").fetchall()
        return {kind: 0 for kind in KINDS} | {row["kind"]: int(row["n"]) for row in rows}

    def _summary(self, row: sqlite3.Row) -> dict[str, Any]:
        files = self._db.execute(
            "select position, filename, content_type, length(content) as size from attachments "
            "where message = ? order by position",
            (row["id"],),
        ).fetchall()
        return {
            "id": row["id"],
            "kind": row["kind"],
            "received_at": row["received_at"],
            "to": row["recipient"],
            "subject": row["subject"],
            "language": row["language"],
            "notification_id": row["notification_id"],
            "attachments": [
                {
                    "position": f["position"],
                    "filename": f["filename"],
                    "content_type": f["content_type"],
                    "size": f["size"],
                    "url": f"/api/messages/{row['id']}/attachments/{f['position']}",
                }
                for f in files
            ],
        }


def _insert_message(db: sqlite3.Connection, d: Delivery) -> int:
    cursor = db.execute(
        "insert into messages (kind, received_at, recipient, sender, subject, language, notification_id,"
        " message_id, body, html, headers, raw, dedupe_key) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            d.kind,
            datetime.now(UTC).isoformat(timespec="seconds"),
            d.recipient,
            d.sender,
            d.subject,
            d.language,
            d.notification_id,
            d.message_id,
            d.body,
            d.html,
            json.dumps(d.headers),
            d.raw,
            d.dedupe_key,
        ),
    )
    assert cursor.lastrowid is not None
    return cursor.lastrowid
