-- Outcome statistics, kept inline from the case stream (projections.OutcomeStatsProjection).
-- Counts only, never personal data: per region and month of the fact.
create table if not exists case_facts (
    case_id           uuid primary key,
    region            text        not null,
    first_contact_at  timestamptz not null,
    first_outcome_at  timestamptz
);

create table if not exists outcome_counts (
    region   text    not null,
    month    date    not null,
    kind     text    not null,   -- opened | outcome | revision | suspension | closure
    value    text    not null,   -- entry channel, outcome, or reason
    count    integer not null default 0,
    primary key (region, month, kind, value)
);

create table if not exists time_to_outcome (
    region     text    not null,
    month      date    not null,
    cases      integer not null default 0,
    total_days double precision not null default 0,
    primary key (region, month)
);
