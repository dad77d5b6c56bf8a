-- Kernel tables: every service database has them. Applied once, tracked in schema_migrations.

create table if not exists events (
    global_position bigint generated always as identity primary key,
    stream_id       text        not null,
    stream_version  integer     not null,
    event_id        uuid        not null unique,
    event_type      text        not null,
    event_version   integer     not null,
    data            jsonb       not null,
    actor           jsonb       not null,
    correlation_id  text        not null,
    causation_id    text,
    occurred_at     timestamptz not null,
    recorded_at     timestamptz not null default now(),
    -- the writing transaction: read_all orders by (tx_id, position) below the snapshot's xmin,
    -- which is gap-safe where a position cursor alone is not (see ADR 0003)
    tx_id           xid8        not null default pg_current_xact_id(),
    unique (stream_id, stream_version)
);
create index if not exists events_tx_position on events (tx_id, global_position);
create index if not exists events_stream_recorded on events (stream_id, recorded_at);

-- rows wait here until the broker acknowledged them; the relay then deletes them
create table if not exists outbox (
    position   bigint primary key,
    topic      text        not null,
    created_at timestamptz not null default now()
);

create table if not exists inbox (
    consumer     text        not null,
    event_id     uuid        not null,
    processed_at timestamptz not null default now(),
    primary key (consumer, event_id)
);

create table if not exists dead_letters (
    id            bigint generated always as identity primary key,
    consumer      text        not null,
    topic         text        not null,
    "partition"   integer     not null,
    "offset"      bigint      not null,
    event_id      uuid,
    event_type    text,
    key           text,
    value         text        not null,
    error_type    text        not null,
    error_message text        not null,
    attempts      integer     not null,
    created_at    timestamptz not null default now(),
    replayed_at   timestamptz
);
create index if not exists dead_letters_consumer on dead_letters (consumer, id);

create table if not exists projection_checkpoints (
    projection text primary key,
    mode       text        not null,   -- 'inline' (same transaction as the append) or 'async'
    position   bigint      not null default 0,
    updated_at timestamptz not null default now()
);

create table if not exists snapshots (
    stream_id      text primary key,
    stream_version integer     not null,
    state          jsonb       not null,
    taken_at       timestamptz not null default now()
);

create table if not exists timers (
    id         uuid primary key,
    due_at     timestamptz not null,
    kind       text        not null,
    payload    jsonb       not null,
    created_at timestamptz not null default now(),
    fired_at   timestamptz
);
create index if not exists timers_due on timers (due_at) where fired_at is null;
