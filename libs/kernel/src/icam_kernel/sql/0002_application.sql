-- The application layer's own tables (icam_kernel.application): journeys and idempotency records.

-- One journey id per household (ADR 0004): the correlation id of the first event or command about
-- the household that this service saw; every later command about it continues that journey.
create table if not exists journeys (
    household_id   uuid primary key,
    correlation_id text        not null,
    first_seen_at  timestamptz not null default now()
);

-- A command accepted under an Idempotency-Key or a client-chosen id: a retry with the same request
-- gets the stored result again, a different request under the same key is refused (422).
create table if not exists idempotency_keys (
    key         text primary key,
    fingerprint text        not null,
    result      jsonb,
    created_at  timestamptz not null default now()
);
create index if not exists idempotency_keys_created on idempotency_keys (created_at);
