-- Issue 18: events parked behind a dead letter of their stream, and outbox rows the broker refused.

-- A dead letter holds back its stream in its consumer until it is resolved: handled after a replay,
-- or discarded. The ones recorded before parking existed held nothing back: resolved as of now.
alter table dead_letters add column if not exists resolved_at timestamptz;
alter table dead_letters add column if not exists discarded_at timestamptz;
update dead_letters set resolved_at = coalesce(replayed_at, created_at) where resolved_at is null;
create index if not exists dead_letters_open on dead_letters (consumer, key) where resolved_at is null;

-- Later records of a stream (the Kafka key) whose earlier record is dead-lettered in this consumer:
-- kept here, not applied, and handled in order once the dead letter is resolved (Axon's
-- sequencing policy). The inbox marks them only when they are handled.
create table if not exists parked_events (
    id          bigint generated always as identity primary key,
    consumer    text        not null,
    key         text        not null,
    event_id    uuid,
    event_type  text,
    topic       text        not null,
    "partition" integer     not null,
    "offset"    bigint      not null,
    value       text        not null,
    headers     jsonb       not null default '{}',
    parked_at   timestamptz not null default now(),
    unique (consumer, event_id)
);
create index if not exists parked_events_stream on parked_events (consumer, key, id);

-- Outbox rows the broker refused for good (larger than the topic accepts): moved aside so that the
-- rest of the topic flows; `icam-dead-letters refused` lists them, `republish` puts one back.
create table if not exists outbox_refused (
    position       bigint primary key,
    topic          text        not null,
    reason         text        not null,
    size_bytes     integer     not null,
    refused_at     timestamptz not null default now(),
    republished_at timestamptz
);
