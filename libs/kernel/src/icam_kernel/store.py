"""Event store on PostgreSQL: append with an expected version, read a stream, read all.

An append is one statement: it checks the expected version, inserts the events and their outbox
rows, and fails as a whole on a conflict, so it is atomic even when the caller has no transaction
open, in one round trip. One event at a known version (nearly every command) is a plain statement
(`_APPEND_ONE`); several events, or "any version", call the `kernel_append` SQL function (see
`sql/0001_kernel.sql`), which serialises "any" appenders with a lock. Inside
a trace, the outbox rows keep the `traceparent` of the append's span (`sql/0006_trace_context.sql`,
ADR 0016): the relay publishes in that trace.
"""

from __future__ import annotations

import enum
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from icam_kernel import codec, sealing, tracing
from icam_kernel.db import Connection
from icam_kernel.errors import EventTooLarge
from icam_kernel.events import NewEvent, RecordedEvent
from icam_kernel.observability import APPEND_SECONDS
from icam_kernel.sealing import Vault
from icam_kernel.upcasting import Upcaster

if TYPE_CHECKING:
    from icam_kernel.projections import Projection

CONFLICT_SQLSTATE = "IC409"
# the broker's default limit (message.max.bytes 1,048,588; the producer's max_request_size 1 MiB),
# less room for the Kafka record's own overhead
DEFAULT_MAX_EVENT_BYTES = 1_000_000
_ENVELOPE_OVERHEAD = 1024  # ids, type, times, correlation and causation, headers

_COLUMNS = """global_position, stream_id, stream_version, event_id, event_type, event_version,
    data::text as data, actor::text as actor, correlation_id, causation_id, occurred_at, recorded_at"""

# One event at a version the command decided on (nearly every command): the same checks and
# rows as `kernel_append` in one plain statement, which costs PostgreSQL about two thirds of the
# function's work and the client no arrays to encode (issue 16). No row back means the stream was
# not at that version, or a concurrent writer took it first: a conflict either way.
_APPEND_ONE = """
with current_version as (
    select coalesce(max(stream_version), 0) as v from events where stream_id = $1
), ins as (
    insert into events as e (stream_id, stream_version, event_id, event_type, event_version, data,
                             actor, correlation_id, causation_id, occurred_at)
    select $1, c.v + 1, $3, $4, $5, $6, $7, $8, $9, coalesce($10, now())
    from current_version c where c.v = $2
    on conflict on constraint events_stream_id_stream_version_key do nothing
    returning e.global_position, e.stream_version, e.recorded_at, e.occurred_at
), ob as (
    insert into outbox (position, topic, traceparent) select i.global_position, $11, $12 from ins i
)
select * from ins
"""

_READ_STREAM = f"""
select {_COLUMNS} from events
where stream_id = $1 and stream_version >= $2
  and ($3::timestamptz is null or recorded_at <= $3)
  and ($4::timestamptz is null or occurred_at <= $4)
order by stream_version
"""

# Gap-safe: events come in (writing transaction, position) order, and only from transactions older
# than every transaction still running, so no event can later appear behind the cursor (ADR 0003).
_READ_ALL = f"""
select {_COLUMNS} from events
where (tx_id, global_position) >
      (coalesce((select tx_id from events where global_position = $1), '0'::xid8), $1)
  and tx_id < pg_snapshot_xmin(pg_current_snapshot())
order by tx_id, global_position
limit $2
"""
_READ_ALL_VISIBLE = _READ_ALL.replace("and tx_id < pg_snapshot_xmin(pg_current_snapshot())", "")


class ExpectedVersion(enum.Enum):
    """`NO_STREAM`: the stream must not exist yet; `ANY`: append whatever its version."""

    NO_STREAM = "no_stream"
    ANY = "any"


Expected = ExpectedVersion | int


class WrongExpectedVersion(Exception):
    """The stream is not at the version the command decided on: reload and decide again (409)."""

    def __init__(self, stream_id: str, expected: Expected, actual: int) -> None:
        shown = expected.value if isinstance(expected, ExpectedVersion) else expected
        super().__init__(f"stream {stream_id!r} is at version {actual}, expected {shown}")
        self.stream_id = stream_id
        self.expected = expected
        self.actual = actual


@dataclass(frozen=True, slots=True)
class AppendResult:
    """Where the append left the stream, and the global position to wait for (read-your-writes)."""

    stream_version: int
    last_position: int


def envelope_size(data: str, actor: str) -> int:
    """An upper bound of an event's Kafka value in bytes, from its JSON data and actor (the relay
    splices the stored text into the envelope as it is, beside fields of a bounded size). Bytes,
    not characters: the text keeps non-ASCII characters as UTF-8."""
    if data.isascii() and actor.isascii():  # nearly always (sealed data is base64): no encoding
        return len(data) + len(actor) + _ENVELOPE_OVERHEAD
    return len(data.encode()) + len(actor.encode()) + _ENVELOPE_OVERHEAD


def _expected_arg(expected: Expected) -> int | None:
    if expected is ExpectedVersion.ANY:
        return None
    if expected is ExpectedVersion.NO_STREAM:
        return 0
    assert isinstance(expected, int)
    return expected


class EventStore:
    """Streams of events in one service database, published to `topic` through the outbox."""

    def __init__(
        self,
        topic: str,
        upcaster: Upcaster | None = None,
        inline_projections: Sequence[Projection] = (),
        vault: Vault | None = None,
        *,
        max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES,
    ) -> None:
        self.topic = topic
        self.upcaster = upcaster
        self.inline_projections = tuple(inline_projections)
        self.max_event_bytes = max_event_bytes
        self._vault = vault
        self._latency = APPEND_SECONDS.labels(topic=topic)
        # told of every append (the service's relay: `OutboxRelay.wake`), so that it polls now
        self.appended: Callable[[], None] | None = None

    def check_size(self, event_type: str, data: str, actor: str) -> None:
        """Refuse an event whose envelope would be over the topic's limit (`EventTooLarge`): the
        broker would refuse it, and such a row would only be moved aside by the relay. `data` is
        the payload as stored and published (sealed), which is larger than the clear one."""
        size = envelope_size(data, actor)
        if size > self.max_event_bytes:
            raise EventTooLarge(event_type, size, self.max_event_bytes)

    @property
    def vault(self) -> Vault | None:
        """What personal data is sealed and opened with: this store's, else the process's."""
        return self._vault or sealing.installed()

    async def _stored(self, event: NewEvent) -> str:
        vault = self.vault
        data = await vault.seal(event.event_type, event.event_version, event.data) if vault else event.data
        return codec.dumps(data)

    async def _read(self, rows: Sequence[Any]) -> list[RecordedEvent]:
        events = [RecordedEvent.from_row(r) for r in rows]
        vault = self.vault
        if vault is not None:
            events = await vault.open_events(events)
        return [self._upcast(e) for e in events]

    async def append(
        self, conn: Connection, stream_id: str, events: Sequence[NewEvent], expected_version: Expected
    ) -> AppendResult:
        """Append `events` atomically in the caller's transaction (one is opened if none is)."""
        if not events:
            raise ValueError("nothing to append")
        started = time.perf_counter()
        with tracing.appending(self.topic, stream_id, [e.event_type for e in events]) as traceparent:
            if self.inline_projections and not conn.is_in_transaction():
                async with conn.transaction():
                    result = await self._append(conn, stream_id, events, expected_version, traceparent)
            else:
                result = await self._append(conn, stream_id, events, expected_version, traceparent)
        self._latency.observe(time.perf_counter() - started)
        if self.appended is not None:
            self.appended()
        return result

    async def _append(
        self,
        conn: Connection,
        stream_id: str,
        events: Sequence[NewEvent],
        expected: Expected,
        traceparent: str | None,
    ) -> AppendResult:
        data = [await self._stored(e) for e in events]  # sealed: the size the broker will see
        actors = [codec.dumps(e.actor.to_dict()) for e in events]
        for event, payload, actor in zip(events, data, actors, strict=True):
            self.check_size(event.event_type, payload, actor)
        version = _expected_arg(expected)
        if len(events) == 1 and version is not None:
            one = (events[0], data[0], actors[0])
            rows = await self._append_one(conn, stream_id, one, expected, version, traceparent)
        else:
            rows = await self._append_many(conn, stream_id, events, expected, data, actors, traceparent)
        if self.inline_projections:
            await self._project(conn, stream_id, events, rows)
        return AppendResult(
            stream_version=rows[-1]["stream_version"], last_position=rows[-1]["global_position"]
        )

    async def _append_one(
        self,
        conn: Connection,
        stream_id: str,
        one: tuple[NewEvent, str, str],
        expected: Expected,
        version: int,
        traceparent: str | None,
    ) -> Sequence[Any]:
        """One event at a known version: `_APPEND_ONE`, one round trip (a second after a conflict)."""
        event, data, actor = one
        rows = await conn.fetch(
            _APPEND_ONE,
            stream_id,
            version,
            event.event_id,
            event.event_type,
            event.event_version,
            data,
            actor,
            event.correlation_id,
            event.causation_id,
            event.occurred_at,
            self.topic,
            traceparent,
        )
        if not rows:
            raise WrongExpectedVersion(stream_id, expected, await self.stream_version(conn, stream_id))
        return rows

    async def _append_many(
        self,
        conn: Connection,
        stream_id: str,
        events: Sequence[NewEvent],
        expected: Expected,
        data: list[str],
        actors: list[str],
        traceparent: str | None,
    ) -> Sequence[Any]:
        """Several events, or any version: `kernel_append` (it serialises "any" appenders)."""
        try:
            return await conn.fetch(
                "select * from kernel_append($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                stream_id,
                _expected_arg(expected),
                self.topic,
                [e.event_id for e in events],
                [e.event_type for e in events],
                [e.event_version for e in events],
                data,
                actors,
                [e.correlation_id for e in events],
                [e.causation_id for e in events],
                [e.occurred_at for e in events],
                traceparent,
            )
        except asyncpg.PostgresError as error:
            if getattr(error, "sqlstate", None) == CONFLICT_SQLSTATE:
                actual = int(getattr(error, "detail", None) or -1)
                raise WrongExpectedVersion(stream_id, expected, actual) from None
            raise

    async def _project(
        self, conn: Connection, stream_id: str, events: Sequence[NewEvent], rows: Sequence[Any]
    ) -> None:
        """Inline projections see exactly what a reader of the store would: upcast recorded events."""
        for new, row in zip(events, rows, strict=True):
            recorded = self._upcast(
                RecordedEvent(
                    global_position=row["global_position"],
                    stream_id=stream_id,
                    stream_version=row["stream_version"],
                    event_id=new.event_id,
                    event_type=new.event_type,
                    event_version=new.event_version,
                    data=new.data,
                    occurred_at=row["occurred_at"],
                    recorded_at=row["recorded_at"],
                    actor=new.actor,
                    correlation_id=new.correlation_id,
                    causation_id=new.causation_id,
                )
            )
            for projection in self.inline_projections:
                if recorded.event_type in projection.event_types:
                    await projection.apply(conn, recorded)

    def _upcast(self, event: RecordedEvent) -> RecordedEvent:
        if self.upcaster is None:
            return event
        version, data = self.upcaster.upcast(event.event_type, event.event_version, event.data)
        return event if version == event.event_version else event.with_payload(version, data)

    async def read_stream(
        self,
        conn: Connection,
        stream_id: str,
        *,
        from_version: int = 1,
        as_of: datetime | None = None,
        occurred_as_of: datetime | None = None,
    ) -> list[RecordedEvent]:
        """A stream's events in order; `as_of` keeps those recorded at or before that time,
        `occurred_as_of` those that happened at or before it (a temporal query either way)."""
        rows = await conn.fetch(_READ_STREAM, stream_id, from_version, as_of, occurred_as_of)
        return await self._read(rows)

    async def read_all(
        self, conn: Connection, after_position: int, limit: int, *, gap_safe: bool = True
    ) -> list[RecordedEvent]:
        """Up to `limit` events after `after_position`, in an order that never skips a late commit.

        Positions arrive in commit-safe order, which may differ from numeric order: use the last
        returned event's `global_position` as the next `after_position`. `gap_safe=False` also
        returns events held back by older running transactions: only for a reader that has locked
        out every writer it cares about (projection rebuild's swap).
        """
        rows = await conn.fetch(_READ_ALL if gap_safe else _READ_ALL_VISIBLE, after_position, limit)
        return await self._read(rows)

    async def stream_version(self, conn: Connection, stream_id: str) -> int:
        """The stream's current version, 0 when it has no events."""
        version = await conn.fetchval(
            "select coalesce(max(stream_version), 0) from events where stream_id = $1", stream_id
        )
        return int(version)

    async def save_snapshot(
        self, conn: Connection, stream_id: str, version: int, state: dict[str, Any]
    ) -> None:
        """Keep a folded state for long streams; `aggregate.load` resumes from it."""
        await conn.execute(
            """insert into snapshots (stream_id, stream_version, state) values ($1, $2, $3)
               on conflict (stream_id) do update set stream_version = excluded.stream_version,
               state = excluded.state, taken_at = now()
               where snapshots.stream_version < excluded.stream_version""",
            stream_id,
            version,
            codec.dumps(state),
        )

    async def load_snapshot(self, conn: Connection, stream_id: str) -> tuple[dict[str, Any], int] | None:
        row = await conn.fetchrow(
            "select state::text as state, stream_version from snapshots where stream_id = $1", stream_id
        )
        return None if row is None else (codec.loads(row["state"]), row["stream_version"])
