-- The content of the documents on the files (documents.PostgresDocumentStore): kept in the case
-- service's own database by default, so a local run needs nothing else (an S3-compatible store
-- is the production alternative, see the README).
create table if not exists document_contents (
    document_id uuid primary key,
    case_id     uuid        not null,
    content     bytea       not null,
    stored_at   timestamptz not null default now()
);
create index if not exists document_contents_case on document_contents (case_id);
