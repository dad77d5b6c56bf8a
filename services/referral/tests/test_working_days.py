"""Acknowledgement deadlines count Belgian working days: weekends and public holidays excluded."""

from datetime import date, datetime, timedelta

import pytest

from icam_referral.domain.working_days import BRUSSELS, WorkingCalendar
from icam_referral.projections import deadline_status

pytestmark = pytest.mark.unit


def test_a_deadline_of_five_working_days_ends_at_five_pm_a_week_later(calendar: WorkingCalendar) -> None:
    referred = datetime(2026, 3, 18, 15, 10, tzinfo=BRUSSELS)  # a Wednesday
    assert calendar.deadline(referred, 5) == datetime(2026, 3, 25, 17, 0, tzinfo=BRUSSELS)


def test_weekends_do_not_count(calendar: WorkingCalendar) -> None:
    friday = datetime(2026, 3, 20, 9, 0, tzinfo=BRUSSELS)
    assert calendar.deadline(friday, 1) == datetime(2026, 3, 23, 17, 0, tzinfo=BRUSSELS)


def test_a_referral_made_on_a_saturday_starts_counting_on_monday(calendar: WorkingCalendar) -> None:
    saturday = datetime(2026, 3, 21, 11, 0, tzinfo=BRUSSELS)
    assert calendar.deadline(saturday, 5).date() == date(2026, 3, 27)


def test_easter_monday_is_not_a_working_day(calendar: WorkingCalendar) -> None:
    thursday_before_easter = datetime(2026, 4, 2, 10, 0, tzinfo=BRUSSELS)
    # Fri 3 (1), Mon 6 is Easter Monday, Tue 7 (2), Wed 8 (3)
    assert calendar.deadline(thursday_before_easter, 3).date() == date(2026, 4, 8)


def test_christmas_and_new_year_are_skipped_across_the_year_end(calendar: WorkingCalendar) -> None:
    referred = datetime(2026, 12, 23, 16, 0, tzinfo=BRUSSELS)  # Wednesday
    # Thu 24 (1), Fri 25 Christmas, Mon 28 (2), Tue 29 (3), Wed 30 (4), Thu 31 (5)
    assert calendar.deadline(referred, 5).date() == date(2026, 12, 31)
    # ...and one more: Fri 1 January is New Year's Day, Mon 4 January 2027
    assert calendar.deadline(referred, 6).date() == date(2027, 1, 4)


def test_national_day_and_ascension_are_holidays(calendar: WorkingCalendar) -> None:
    assert not calendar.is_working_day(date(2026, 7, 21))
    assert not calendar.is_working_day(date(2026, 5, 14))
    assert calendar.is_working_day(date(2026, 7, 22))


def test_a_deployment_can_close_extra_days() -> None:
    calendar = WorkingCalendar(extra_closed_days=[date(2026, 12, 28)])
    assert calendar.add_working_days(date(2026, 12, 23), 2) == date(2026, 12, 29)


def test_the_deadline_is_computed_on_the_brussels_day_of_a_utc_time(calendar: WorkingCalendar) -> None:
    # 23:30 UTC on Friday is already Saturday in Brussels
    late_friday_utc = datetime.fromisoformat("2026-03-20T23:30:00+00:00")
    assert calendar.deadline(late_friday_utc, 1).date() == date(2026, 3, 23)


def test_working_days_between_counts_only_working_days(calendar: WorkingCalendar) -> None:
    start = datetime(2026, 4, 2, 10, 0, tzinfo=BRUSSELS)
    assert calendar.working_days_between(start, datetime(2026, 4, 8, 10, 0, tzinfo=BRUSSELS)) == 3


def test_a_deadline_needs_at_least_one_working_day(calendar: WorkingCalendar) -> None:
    with pytest.raises(ValueError, match="at least one"):
        calendar.add_working_days(date(2026, 3, 18), 0)


def test_the_inbox_says_ok_due_soon_or_overdue_against_the_deadline() -> None:
    deadline = datetime(2026, 3, 25, 17, 0, tzinfo=BRUSSELS)
    window = timedelta(hours=24)
    assert deadline_status(deadline, deadline - timedelta(days=2), window) == "ok"
    assert deadline_status(deadline, deadline - timedelta(hours=3), window) == "due_soon"
    assert deadline_status(deadline, deadline, window) == "overdue"
