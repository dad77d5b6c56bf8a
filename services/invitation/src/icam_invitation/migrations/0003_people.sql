-- Everyone met at first contact, for duplicate detection (projections.PeopleIndex): the names as
-- given, their phonetic key, birth date and nationality, and the household they belong to.
create table if not exists people (
    household_id  uuid        not null,
    person_id     text        not null,
    given_name    text,
    family_name   text,
    birth_date    date,
    nationality   text,
    name_key      text        not null,
    skeletons     text[]      not null,
    region        text,
    first_seen_at timestamptz not null,
    primary key (household_id, person_id)
);
create index if not exists people_person on people (person_id);
create index if not exists people_name_key on people (name_key);
create index if not exists people_birth_date on people (birth_date);
