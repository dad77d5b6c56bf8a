"""Working days, notice periods and walk-in desk hours."""

from __future__ import annotations

from datetime import date, time

import pytest

from icam_invitation.domain.calendar import DeskHours, WorkingHours, earliest_valid_slot
from icam_invitation.testing import at

pytestmark = pytest.mark.unit
HOURS = WorkingHours()
WEDNESDAY_DESK = DeskHours(weekday=2, opens=time(9), closes=time(12))


def test_belgian_public_holidays_are_not_working_days() -> None:
    assert not HOURS.is_working_day(date(2026, 7, 21))  # national day, a Tuesday
    assert not HOURS.is_working_day(date(2026, 4, 6))  # Easter Monday
    assert not HOURS.is_working_day(date(2026, 3, 7))  # a Saturday
    assert HOURS.is_working_day(date(2026, 3, 9))


def test_working_days_skip_weekends_and_holidays() -> None:
    # Thursday 16 July 2026 + 3 working days: Fri 17, Mon 20, (Tue 21 is a holiday) Wed 22
    assert HOURS.working_days_after(date(2026, 7, 16), 3) == date(2026, 7, 22)


def test_the_earliest_slot_is_the_opening_of_the_nth_working_day() -> None:
    assert earliest_valid_slot(at("2026-03-02 15:00"), HOURS, 5) == at("2026-03-09 09:00")


def test_a_slot_must_fit_within_working_hours() -> None:
    from datetime import timedelta

    hour = timedelta(hours=1)
    assert HOURS.slot_fits(at("2026-03-09 16:00"), hour)
    assert not HOURS.slot_fits(at("2026-03-09 16:30"), hour)
    assert not HOURS.slot_fits(at("2026-03-09 08:30"), hour)
    assert not HOURS.slot_fits(at("2026-03-07 10:00"), hour)


def test_a_desk_is_open_on_wednesday_mornings_only() -> None:
    assert WEDNESDAY_DESK.is_open(at("2026-03-04 09:00"))
    assert WEDNESDAY_DESK.is_open(at("2026-03-04 11:59"))
    assert not WEDNESDAY_DESK.is_open(at("2026-03-04 12:00"))
    assert not WEDNESDAY_DESK.is_open(at("2026-03-05 10:00"))


def test_a_closed_desk_says_when_it_next_opens_skipping_holidays() -> None:
    assert WEDNESDAY_DESK.next_opening(at("2026-03-04 12:30")) == at("2026-03-11 09:00")
    assert WEDNESDAY_DESK.next_opening(at("2026-03-04 08:00")) == at("2026-03-04 09:00")
    # Wednesday 11 November 2026 is Armistice Day
    assert WEDNESDAY_DESK.next_opening(at("2026-11-05 10:00")) == at("2026-11-18 09:00")
    assert not WEDNESDAY_DESK.is_open(at("2026-11-11 10:00"))


def test_with_no_notice_period_the_earliest_slot_is_now_not_this_mornings_opening() -> None:
    assert earliest_valid_slot(at("2026-03-02 15:00"), HOURS, 0) == at("2026-03-02 15:00")
