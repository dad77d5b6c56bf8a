-- The coach's caseload, kept inline from the case stream (projections.CaseloadProjection).

create table if not exists caseload (
    case_id            uuid primary key,
    household_id       uuid        not null,
    region             text        not null,
    office             text        not null,
    coach_id           text,
    status             text        not null,
    entry_channel      text,
    language           text        not null,
    opened_at          timestamptz not null,
    last_interview_at  timestamptz,
    next_interview_due timestamptz,
    interviews_held    integer     not null default 0,
    outcome            text,
    flags              text[]      not null default '{}',
    adults             integer     not null default 0,
    minors             integer     not null default 0,
    version            integer     not null,
    last_position      bigint      not null,
    updated_at         timestamptz not null default now()
);
create index if not exists caseload_region_status on caseload (region, status, next_interview_due);
create index if not exists caseload_coach on caseload (coach_id, status);

