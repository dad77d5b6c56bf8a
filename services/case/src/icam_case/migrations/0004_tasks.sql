-- What needs doing on each case, derived from its events (projections.TaskList): one row per task,
-- replaced whenever the case changes; a task is overdue when due_at has passed.

create table if not exists case_tasks (
    case_id       uuid        not null,
    kind          text        not null,
    ref           text        not null,
    due_at        timestamptz not null,
    household_id  uuid        not null,
    region        text        not null,
    coach_id      text,
    for_team_lead boolean     not null default false,
    primary key (case_id, kind, ref)
);
create index if not exists case_tasks_coach on case_tasks (coach_id, due_at);
create index if not exists case_tasks_region on case_tasks (region, due_at);
