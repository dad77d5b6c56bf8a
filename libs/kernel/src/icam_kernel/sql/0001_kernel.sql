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
    headers       jsonb       not null default '{}',   -- the original record's headers
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

-- One round trip per append, atomic even outside a transaction: check the expected version, insert
-- the events and their outbox rows, or fail the whole statement (no partial append, ever).
-- p_expected: null = any version, 0 = the stream must not exist, n = the stream is at version n.
-- A conflict raises SQLSTATE 'IC409' with the stream's current version as DETAIL.
create or replace function kernel_append(
    p_stream text, p_expected integer, p_topic text,
    p_ids uuid[], p_types text[], p_versions integer[], p_data jsonb[], p_actors jsonb[],
    p_correlations text[], p_causations text[], p_occurred timestamptz[]
) returns table (global_position bigint, stream_version integer, recorded_at timestamptz,
                 occurred_at timestamptz)
language plpgsql as $$
declare
    v_current integer;
    v_count   integer := cardinality(p_ids);
    v_done    integer;
begin
    if p_expected is null then
        -- "any": serialise appenders of this stream so that they do not conflict with each other
        perform pg_advisory_xact_lock(hashtextextended(p_stream, 0));
    end if;
    select coalesce(max(e.stream_version), 0) into v_current from events e where e.stream_id = p_stream;
    if p_expected is not null and v_current <> p_expected then
        raise exception 'wrong expected version for stream %', p_stream
            using errcode = 'IC409', detail = v_current::text;
    end if;
    return query
    with ins as (
        insert into events as e (stream_id, stream_version, event_id, event_type, event_version, data,
                                 actor, correlation_id, causation_id, occurred_at)
        select p_stream, v_current + t.n::integer, t.id, t.typ, t.ver, t.dat, t.act, t.cor, t.cau,
               coalesce(t.occ, now())
        from unnest(p_ids, p_types, p_versions, p_data, p_actors, p_correlations, p_causations,
                    p_occurred) with ordinality as t(id, typ, ver, dat, act, cor, cau, occ, n)
        order by t.n
        -- a concurrent writer that took the same version first wins; we then fail below
        on conflict on constraint events_stream_id_stream_version_key do nothing
        returning e.global_position, e.stream_version, e.recorded_at, e.occurred_at
    ), ob as (
        insert into outbox (position, topic) select i.global_position, p_topic from ins i
    )
    select i.global_position, i.stream_version, i.recorded_at, i.occurred_at
    from ins i order by i.stream_version;
    get diagnostics v_done = row_count;
    if v_done < v_count then
        select coalesce(max(e.stream_version), 0) into v_current from events e where e.stream_id = p_stream;
        raise exception 'concurrent append to stream %', p_stream
            using errcode = 'IC409', detail = v_current::text;
    end if;
end
$$;
