"""The subscriber's own database (SQLite here; yours will differ): what it keeps of each event, and
the ids of the events it handled, written in ONE transaction so that a redelivery has no effect."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from icam_subscriber.contract import Event

_SCHEMA = """
create table if not exists handled_events (
    event_id   text primary key,
    handled_at text not null default (datetime('now'))
);
create table if not exists trajectory_events (
    event_id          text primary key references handled_events (event_id),
    event_type        text not null,
    version           integer not null,
    published_version integer not null,
    stream_id         text not null,
    correlation_id    text not null,
    occurred_at       text not null,
    data              text not null
);
"""


class SubscriberStore:
    """What this example system keeps: a copy of every event it subscribed to."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(_SCHEMA)

    def handle(self, event: Event) -> bool:
        """Keep `event` once; False when it was handled before (at-least-once delivery)."""
        self.db.execute("begin immediate")
        try:
            seen = self.db.execute(
                "insert or ignore into handled_events (event_id) values (?)", (event.event_id,)
            )
            if seen.rowcount == 0:
                self.db.execute("rollback")
                return False
            self.db.execute(
                "insert into trajectory_events values (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.event_id,
                    event.event_type,
                    event.version,
                    event.published_version,
                    event.stream_id,
                    event.correlation_id,
                    event.occurred_at,
                    json.dumps(event.data),
                ),
            )
        except BaseException:
            self.db.execute("rollback")
            raise
        self.db.execute("commit")
        return True

    def events(self) -> list[dict[str, Any]]:
        rows = self.db.execute("select * from trajectory_events order by rowid").fetchall()
        return [dict(row) | {"data": json.loads(row["data"])} for row in rows]

    def close(self) -> None:
        self.db.close()
