-- Key custody (icam_privacy.keys): one live data key per subject (a person, a household's texts),
-- wrapped by the key-encryption key; destroying a key blanks it for good.
create table if not exists data_keys (
    key_id       uuid primary key,
    subject      text        not null,
    wrapped      bytea,
    kek_id       text        not null,
    created_at   timestamptz not null default now(),
    destroyed_at timestamptz,
    check ((wrapped is null) = (destroyed_at is not null))
);
create unique index if not exists data_keys_live_subject on data_keys (subject) where destroyed_at is null;

-- Who obtained (or was refused) which keys, when and why: the audit of key custody.
create table if not exists key_access (
    id           bigserial primary key,
    at           timestamptz not null default now(),
    caller       text        not null,
    role         text        not null,
    organisation text,
    operation    text        not null,
    purpose      text,
    granted      boolean     not null,
    keys         integer     not null,
    destroyed    integer     not null default 0,
    key_ids      uuid[]      not null default '{}'
);
create index if not exists key_access_at on key_access (at);

-- Households and their members, from the invitation and case topics (references only).
create table if not exists households (
    household_id    uuid primary key,
    first_seen_at   timestamptz not null,
    last_contact_at timestamptz not null,
    case_open       boolean     not null default false,
    closed_at       timestamptz,
    erased_at       timestamptz
);
create table if not exists household_members (
    household_id uuid not null references households,
    person_id    text not null,
    primary key (household_id, person_id)
);
create index if not exists household_members_person on household_members (person_id);

-- Erasures (read model of PersonalDataErased) and the purge reports that make their receipts.
create table if not exists erasures (
    erasure_id      uuid primary key,
    person_ids      text[]      not null,
    household_ids   uuid[]      not null,
    key_ids         uuid[]      not null,
    keys_destroyed  integer     not null,
    legal_basis     text        not null,
    ordered_by      text        not null,
    order_reference text,
    erased_at       timestamptz not null
);
create table if not exists erased_persons (
    person_id  text primary key,
    erasure_id uuid not null references erasures
);
create table if not exists erasure_reports (
    erasure_id uuid        not null,
    service    text        not null,
    store      text        not null,
    rows       integer     not null,
    purged_at  timestamptz not null,
    primary key (erasure_id, service, store)
);

-- Legal holds (read model of RetentionHoldPlaced / Released).
create table if not exists holds (
    hold_id         uuid primary key,
    household_id    uuid        not null,
    basis           text        not null,
    order_reference text,
    placed_by       text        not null,
    placed_at       timestamptz not null,
    released_at     timestamptz
);
create index if not exists holds_household on holds (household_id) where released_at is null;
