-- Notification service tables. The kernel's tables (events, outbox, inbox, timers...) come first.

-- Who we can write to, learnt from events carrying PersonalData. Only what writing needs.
create table if not exists households (
    household_id uuid primary key,
    region       text,
    office       text,
    case_id      uuid,
    updated_at   timestamptz not null default now()
);

create table if not exists recipients (
    person_id          text primary key,
    household_id       uuid not null,
    name               text,
    email              text,
    phone              text,
    postal_address     jsonb,
    preferred_language text,
    is_minor           boolean not null default false,
    updated_at         timestamptz not null default now()
);
create index if not exists recipients_household on recipients (household_id);

-- What notices about an invitation need and their events do not repeat.
create table if not exists invitations (
    invitation_id  uuid primary key,
    household_id   uuid not null,
    office         text not null,
    appointment_at timestamptz,
    channels       text[] not null default '{}',
    person_ids     text[] not null default '{}'
);

-- One row per notification: the intent (committed before any send), the rendered message, the
-- delivery state, and the read model of notifications per case and per person.
create table if not exists notifications (
    notification_id    uuid primary key,
    caused_by_event_id uuid not null,
    recipient_kind     text not null,
    recipient_id       text not null,
    channel            text not null,
    household_id       uuid not null,
    case_id            uuid,
    invitation_id      uuid,
    referral_id        uuid,
    region             text,
    office             text,
    template           text not null,
    language           text not null,
    correlation_id     text not null,
    address            text,            -- e-mail, phone, or postal address lines
    reference          text not null,   -- what the person quotes: INV-..., CASE-..., REF-...
    subject            text not null,
    body               text not null,
    sms                text not null,
    status             text not null default 'pending',  -- pending, retrying, sent, failed
    attempts           integer not null default 0,
    due_at             timestamptz not null default now(),
    lease_until        timestamptz,     -- a claimed send not recorded by then is retried
    version            integer not null default 0,  -- version of the notification's event stream
    provider_reference text,
    last_error         text,
    created_at         timestamptz not null default now(),
    sent_at            timestamptz,
    updated_at         timestamptz not null default now(),
    unique (caused_by_event_id, recipient_kind, recipient_id, channel)
);
create index if not exists notifications_due on notifications (due_at)
    where status in ('pending', 'retrying');
create index if not exists notifications_case on notifications (case_id);
create index if not exists notifications_household on notifications (household_id);
create index if not exists notifications_recipient on notifications (recipient_id);

-- Letters as printed: one PDF per postal notification.
create table if not exists letters (
    notification_id uuid primary key references notifications (notification_id),
    pdf             bytea not null,
    created_at      timestamptz not null default now()
);
