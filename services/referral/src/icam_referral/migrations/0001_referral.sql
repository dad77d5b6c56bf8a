-- What the referral service learns about households from case events (personal data: the
-- members' identity and contact, kept only to build referrals; erased with the case's data).
create table if not exists households (
    case_id      uuid primary key,
    household_id uuid        not null,
    region       text        not null,
    language     text        not null,
    coach_id     text,
    members      jsonb       not null,
    updated_at   timestamptz not null default now()
);

-- One row per outcome decision handled: the guard that makes "exactly one referral per decision"
-- hold under redelivery and racing consumers (the insert is the first write of the transaction
-- that appends the referral; a second transaction blocks on the key, then finds it taken).
create table if not exists referral_decisions (
    decision_id  uuid primary key,
    case_id      uuid        not null,
    referral_id  uuid,                    -- the decision's current referral; null when none was made
    not_made     text,                    -- ReferralNotMade reason, when no referral was made
    region       text,
    decided_at   timestamptz not null default now()
);
create index if not exists referral_decisions_case on referral_decisions (case_id);
