-- Service tables of the case service (the read models' own tables are created by projections.py).

-- Exactly one open case per household: the reaction that opens a case inserts here in the same
-- transaction as CaseOpened; a second, racing opener blocks on the primary key, then attaches to
-- the winner's case. The row goes when the case closes (same transaction as TrajectoryClosed).
create table if not exists open_cases (
    household_id uuid primary key,
    case_id      uuid        not null unique,
    opened_at    timestamptz not null default now()
);

-- Facts from other services about a case's household, kept for the case timeline.
create table if not exists received_events (
    event_id       uuid primary key,
    case_id        uuid,
    household_id   uuid        not null,
    topic          text        not null,
    event_type     text        not null,
    event_version  integer     not null,
    data           jsonb       not null,
    actor          jsonb       not null,
    occurred_at    timestamptz not null,
    recorded_at    timestamptz not null default now()
);
create index if not exists received_events_case on received_events (case_id, occurred_at);
create index if not exists received_events_household on received_events (household_id, occurred_at);
