"""Read models kept inline (in the transaction of the append), so a command's reader sees its write.

* ``coach_slots`` - the coach agenda. It is also the guard against double booking: an exclusion
  constraint forbids two active slots of one coach that overlap, so of two racing bookings exactly
  one commits (the other's append fails as a whole and becomes a 409).
* ``invitations`` - one row per invitation: the office agenda and the funnel are queries on it.
* ``desk_visits`` - the visit log of the walk-in desks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from icam_contracts import parse
from icam_contracts.enums import InvitationResponse
from icam_contracts.events import invitation as ev
from icam_contracts.personal_data import PersonalData
from icam_invitation.domain import matching
from icam_invitation.domain.calendar import BRUSSELS
from icam_invitation.domain.errors import CoachDoubleBooked
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent

COACH_SLOTS_SQL = """
create table if not exists coach_slots (
    booking_id   uuid primary key,
    coach_id     text        not null,
    region       text        not null,
    office       text        not null,
    household_id uuid        not null,
    kind         text        not null,   -- 'invitation' or 'walk_in'
    starts_at    timestamptz not null,
    ends_at      timestamptz not null,
    active       boolean     not null default true,
    constraint coach_slots_no_overlap exclude using gist
        (coach_id with =, tstzrange(starts_at, ends_at) with &&) where (active)
);
create index if not exists coach_slots_by_coach on coach_slots (coach_id, starts_at);
"""

INVITATIONS_SQL = """
create table if not exists invitations (
    invitation_id  uuid primary key,
    household_id   uuid        not null,
    region         text        not null,
    office         text        not null,
    coach_id       text,
    entry_channel  text        not null,
    language       text        not null,
    appointment_at timestamptz not null,
    status         text        not null,
    confirmed      boolean     not null default false,
    reschedules    integer     not null default 0,
    attempt        integer     not null,
    sent_at        timestamptz not null,
    sent_week      text        not null,   -- ISO week of sending, Europe/Brussels: 2026-W10
    updated_at     timestamptz not null
);
create index if not exists invitations_by_office on invitations (office, appointment_at);
create index if not exists invitations_by_household on invitations (household_id, appointment_at);
create index if not exists invitations_by_week on invitations (sent_week);
"""

REQUESTS_SQL = """
create table if not exists appointment_requests (
    request_id     uuid primary key,
    household_id   uuid        not null,
    region         text,
    entry_channel  text        not null,
    language       text        not null,
    adults         integer     not null,
    minors         integer     not null,
    status         text        not null,   -- 'open' or the resolution it was closed with
    invitation_id  uuid,
    received_at    timestamptz not null,
    closed_at      timestamptz
);
create index if not exists appointment_requests_by_region
    on appointment_requests (region, status, received_at);
"""

DESK_VISITS_SQL = """
create table if not exists desk_visits (
    visit_id      uuid primary key,
    desk          text        not null,
    region        text        not null,
    household_id  uuid        not null,
    coach_id      text,
    language      text        not null,
    outcome       text,
    invitation_id uuid,
    adults        integer     not null,
    minors        integer     not null,
    visited_at    timestamptz not null,
    visit_day     date        not null     -- Europe/Brussels
);
create index if not exists desk_visits_by_day on desk_visits (desk, visit_day, visited_at);
"""


def iso_week(moment: datetime) -> str:
    """ISO week of ``moment`` in Brussels, e.g. ``2026-W10``."""
    year, week, _ = moment.astimezone(BRUSSELS).isocalendar()
    return f"{year}-W{week:02d}"


class CoachAgenda:
    """Active slots per coach; inactive once cancelled or declined, active again when moved."""

    name = "coach_agenda"
    tables = ("coach_slots",)
    schema_sql = COACH_SLOTS_SQL
    event_types = frozenset(
        {
            "InvitationSent",
            "InvitationRescheduled",
            "InvitationCancelled",
            "InvitationResponseRecorded",
            "WalkInRegistered",
        }
    )

    def __init__(self, slot_duration: timedelta, office_of_desk: dict[str, str]) -> None:
        self.slot = slot_duration
        self.office_of_desk = office_of_desk

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        """Book, move or release the coach's slot; an overlap with an active slot of the same coach
        is refused by the table's exclusion constraint, and so is the whole command (409)."""
        try:
            await self._apply(conn, event)
        except asyncpg.ExclusionViolationError:
            raise CoachDoubleBooked(
                "the coach already has an interview at that time", field="coach_id"
            ) from None

    async def _apply(self, conn: Connection, event: RecordedEvent) -> None:
        match parse(event.event_type, event.event_version, event.data):
            case ev.InvitationSent(coach_id=str(coach)) as sent:
                await self._book(
                    conn,
                    sent.invitation_id,
                    coach,
                    sent.region,
                    sent.office,
                    sent.household_id,
                    "invitation",
                    sent.appointment_at,
                )
            case (
                ev.WalkInRegistered(
                    coach_id=str(coach), outcome=ev.WalkInOutcome.INTERVIEW_ON_THE_SPOT
                ) as visit
            ):
                office = self.office_of_desk.get(visit.desk, visit.desk)
                await self._book(
                    conn,
                    visit.visit_id,
                    coach,
                    visit.region,
                    office,
                    visit.household_id,
                    "walk_in",
                    event.occurred_at,
                )
            case ev.InvitationRescheduled() as moved:
                await conn.execute(
                    """update coach_slots set starts_at = $2, ends_at = $3, office = $4, active = true
                       where booking_id = $1""",
                    moved.invitation_id,
                    moved.appointment_at,
                    moved.appointment_at + self.slot,
                    moved.office,
                )
            case ev.InvitationCancelled() as cancelled:
                await self._release(conn, cancelled.invitation_id)
            case ev.InvitationResponseRecorded(response=InvitationResponse.DECLINED) as declined:
                await self._release(conn, declined.invitation_id)

    async def _book(
        self,
        conn: Connection,
        booking: object,
        coach: str,
        region: str,
        office: str,
        household: object,
        kind: str,
        start: datetime,
    ) -> None:
        await conn.execute(
            """insert into coach_slots
                   (booking_id, coach_id, region, office, household_id, kind, starts_at, ends_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (booking_id) do nothing""",
            booking,
            coach,
            region,
            office,
            household,
            kind,
            start,
            start + self.slot,
        )

    async def _release(self, conn: Connection, booking: object) -> None:
        await conn.execute("update coach_slots set active = false where booking_id = $1", booking)


_STATUS_OF = {
    "InvitationCancelled": "cancelled",
    "InvitationNoShowRecorded": "no_show",
    "InvitationHonoured": "honoured",
}


class InvitationList:
    """One row per invitation, for the office agenda and the funnel."""

    name = "invitation_list"
    tables = ("invitations",)
    schema_sql = INVITATIONS_SQL
    event_types = frozenset(
        {"InvitationSent", "InvitationRescheduled", "InvitationResponseRecorded", *_STATUS_OF}
    )

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        """Insert on sending; then follow status, time and confirmation."""
        model = parse(event.event_type, event.event_version, event.data)
        stamp = event.occurred_at
        match model:
            case ev.InvitationSent() as sent:
                await conn.execute(
                    """insert into invitations (invitation_id, household_id, region, office, coach_id,
                           entry_channel, language, appointment_at, status, attempt, sent_at, sent_week,
                           updated_at)
                       values ($1, $2, $3, $4, $5, $6, $7, $8, 'sent', $9, $10, $11, $10)
                       on conflict (invitation_id) do nothing""",
                    sent.invitation_id,
                    sent.household_id,
                    sent.region,
                    sent.office,
                    sent.coach_id,
                    sent.entry_channel.value,
                    sent.language.value,
                    sent.appointment_at,
                    sent.attempt,
                    stamp,
                    iso_week(stamp),
                )
            case ev.InvitationRescheduled() as moved:
                await conn.execute(
                    """update invitations set appointment_at = $2, office = $3, status = 'sent',
                           reschedules = reschedules + 1, updated_at = $4 where invitation_id = $1""",
                    moved.invitation_id,
                    moved.appointment_at,
                    moved.office,
                    stamp,
                )
            case ev.InvitationResponseRecorded() as answer:
                confirmed = answer.response is InvitationResponse.CONFIRMED
                await conn.execute(
                    """update invitations set status = $2, confirmed = confirmed or $3, updated_at = $4
                       where invitation_id = $1""",
                    answer.invitation_id,
                    answer.response.value,
                    confirmed,
                    stamp,
                )
            case ev.InvitationCancelled() | ev.InvitationNoShowRecorded() | ev.InvitationHonoured():
                await conn.execute(
                    "update invitations set status = $2, updated_at = $3 where invitation_id = $1",
                    model.invitation_id,
                    _STATUS_OF[event.event_type],
                    stamp,
                )


class DeskVisitLog:
    """Who came to which desk when, and what it led to (counts, no personal data)."""

    name = "desk_visit_log"
    tables = ("desk_visits",)
    schema_sql = DESK_VISITS_SQL
    event_types = frozenset({"WalkInRegistered"})

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        """Log the visit on its Brussels day."""
        visit = parse(event.event_type, event.event_version, event.data)
        assert isinstance(visit, ev.WalkInRegistered)
        await conn.execute(
            """insert into desk_visits (visit_id, desk, region, household_id, coach_id, language, outcome,
                   invitation_id, adults, minors, visited_at, visit_day)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
               on conflict (visit_id) do nothing""",
            visit.visit_id,
            visit.desk,
            visit.region,
            visit.household_id,
            visit.coach_id,
            visit.language.value,
            visit.outcome.value if visit.outcome else None,
            visit.invitation_id,
            visit.adults,
            visit.minors,
            event.occurred_at,
            event.occurred_at.astimezone(BRUSSELS).date(),
        )


class RequestList:
    """Helpline requests for an appointment: open ones first to be answered (counts, no names)."""

    name = "appointment_request_list"
    tables = ("appointment_requests",)
    schema_sql = REQUESTS_SQL
    event_types = frozenset({"AppointmentRequested", "AppointmentRequestClosed"})

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        model = parse(event.event_type, event.event_version, event.data)
        if isinstance(model, ev.AppointmentRequested):
            minors = sum(1 for m in model.members if m.is_minor)
            await conn.execute(
                """insert into appointment_requests (request_id, household_id, region, entry_channel,
                       language, adults, minors, status, received_at)
                   values ($1, $2, $3, $4, $5, $6, $7, 'open', $8) on conflict (request_id) do nothing""",
                model.request_id,
                model.household_id,
                model.region,
                model.entry_channel.value,
                model.language.value,
                len(model.members) - minors,
                minors,
                event.occurred_at,
            )
        elif isinstance(model, ev.AppointmentRequestClosed):
            await conn.execute(
                """update appointment_requests set status = $2, invitation_id = $3, closed_at = $4
                   where request_id = $1""",
                model.request_id,
                model.resolution.value,
                model.invitation_id,
                event.occurred_at,
            )


class PeopleIndex:
    """Everyone registered at first contact, with the keys duplicate detection looks them up by."""

    name = "people_index"
    tables = ("people",)
    schema_sql = (Path(__file__).parent / "migrations" / "0003_people.sql").read_text()
    event_types = frozenset({"InvitationSent", "AppointmentRequested", "WalkInRegistered"})

    async def apply(self, conn: Connection, event: RecordedEvent) -> None:
        model = parse(event.event_type, event.event_version, event.data)
        assert isinstance(model, ev.InvitationSent | ev.AppointmentRequested | ev.WalkInRegistered)
        await conn.executemany(
            """insert into people (household_id, person_id, given_name, family_name, birth_date, nationality,
                   name_key, skeletons, region, first_seen_at)
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
               on conflict (household_id, person_id) do nothing""",
            [_person_row(model, member, event.occurred_at) for member in model.members],
        )


def _person_row(model: Any, member: PersonalData, at: datetime) -> tuple[Any, ...]:
    person = matching.Person(
        member.person_id, member.given_name, member.family_name, member.birth_date, member.nationality
    )
    return (
        model.household_id,
        member.person_id,
        member.given_name,
        member.family_name,
        member.birth_date,
        member.nationality,
        matching.name_key(person),
        matching.skeletons(person),
        getattr(model, "region", None),
        at,
    )
