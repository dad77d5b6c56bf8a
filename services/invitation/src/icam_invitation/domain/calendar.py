"""Belgian working days, office hours, notice periods and walk-in desk opening hours.

Everything here is pure: the current time is passed in, and the Belgian public holidays come from
the ``holidays`` package (``holidays.Belgium()``), which computes them for any year.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

BRUSSELS = ZoneInfo("Europe/Brussels")

HolidayCheck = Callable[[date], bool]


@lru_cache(maxsize=32)
def _belgian_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("BE", years=year))


def belgian_public_holiday(day: date) -> bool:
    """Whether ``day`` is a Belgian public holiday (New Year, Easter Monday, 21 July and so on)."""
    return day in _belgian_holidays(day.year)


@dataclass(frozen=True)
class WorkingHours:
    """When coaches hold interviews: weekdays ``days`` (0 = Monday), ``opens``-``closes`` local time."""

    opens: time = time(9)
    closes: time = time(17)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    timezone: ZoneInfo = BRUSSELS
    is_holiday: HolidayCheck = belgian_public_holiday

    def is_working_day(self, day: date) -> bool:
        """A weekday of ``days`` that is no public holiday."""
        return day.weekday() in self.days and not self.is_holiday(day)

    def working_days_after(self, day: date, count: int) -> date:
        """The ``count``-th working day after ``day`` (``day`` itself not counted)."""
        current, found = day, 0
        while found < count:
            current += timedelta(days=1)
            if self.is_working_day(current):
                found += 1
        return current

    def next_working_day(self, day: date) -> date:
        """``day`` if it is a working day, else the next one."""
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return day

    def slot_fits(self, start: datetime, duration: timedelta) -> bool:
        """Whether a slot starting at ``start`` lies within one working day's hours."""
        local = start.astimezone(self.timezone)
        end = (start + duration).astimezone(self.timezone)
        return (
            self.is_working_day(local.date())
            and local.time() >= self.opens
            and end.date() == local.date()
            and end.time() <= self.closes
        )

    def opening_of(self, day: date) -> datetime:
        """The moment interviews may start on ``day``."""
        return datetime.combine(day, self.opens, tzinfo=self.timezone)


@dataclass(frozen=True)
class NoticePeriod:
    """Minimum working days between sending an invitation and the interview, by channel kind."""

    postal_working_days: int = 5
    electronic_working_days: int = 2

    def working_days(self, postal: bool) -> int:
        """Postal letters need longer to arrive than e-mail or SMS."""
        return self.postal_working_days if postal else self.electronic_working_days


def earliest_valid_slot(now: datetime, hours: WorkingHours, notice_days: int) -> datetime:
    """The first moment an interview may start when the invitation is sent at ``now``."""
    sent_on = now.astimezone(hours.timezone).date()
    # never in the past, also when the notice period is zero days
    return max(hours.opening_of(hours.working_days_after(sent_on, notice_days)), now)


@dataclass(frozen=True)
class DeskHours:
    """Opening hours of a walk-in desk: one weekday, ``opens``-``closes``, closed on holidays."""

    weekday: int
    opens: time
    closes: time
    timezone: ZoneInfo = BRUSSELS
    is_holiday: HolidayCheck = belgian_public_holiday

    def is_open(self, at: datetime) -> bool:
        """Whether a visit at ``at`` falls within opening hours."""
        local = at.astimezone(self.timezone)
        return (
            local.weekday() == self.weekday
            and not self.is_holiday(local.date())
            and self.opens <= local.time() < self.closes
        )

    def next_opening(self, after: datetime) -> datetime:
        """When the desk next opens after ``after`` (or now, if it is open)."""
        local = after.astimezone(self.timezone)
        day = local.date()
        if local.time() >= self.opens:
            day += timedelta(days=1)
        for _ in range(400):
            if day.weekday() == self.weekday and not self.is_holiday(day):
                return datetime.combine(day, self.opens, tzinfo=self.timezone)
            day += timedelta(days=1)
        raise ValueError("the desk never opens in the coming year")
