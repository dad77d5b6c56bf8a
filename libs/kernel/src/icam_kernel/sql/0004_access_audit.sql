-- Reads of personal data served without the gateway's proof that it audited them (ADR 0014):
-- a direct call to the service with a valid token. Written before the answer leaves; the
-- gateway's GET /api/audit merges these rows (GET /audit/direct) with its own log.
create table if not exists access_audit (
    id             bigint generated always as identity primary key,
    at             timestamptz not null default now(),
    subject        text        not null,
    role           text        not null,
    region         text,
    organisation   text,
    method         text        not null,
    path           text        not null,
    query          text        not null default '',
    status         integer     not null,
    purpose        text        not null,
    request_id     text        not null,
    correlation_id text        not null
);
create index if not exists access_audit_at on access_audit (at);
create index if not exists access_audit_subject_at on access_audit (subject, at);
