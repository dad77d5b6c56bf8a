"""Working days in Belgium: the partner's acknowledgement deadline counts only these.

A working day is Monday to Friday, not a Belgian public holiday (the `holidays` package's
calendar for BE) and not one of the extra closing days a deployment configures (for example a
partner's office closure between Christmas and New Year).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

BRUSSELS = ZoneInfo("Europe/Brussels")
END_OF_WORKING_DAY = time(17, 0)
_SATURDAY = 5


class WorkingCalendar:
    """Belgian working days, with the deadline arithmetic of referrals."""

    def __init__(
        self,
        extra_closed_days: Iterable[date] = (),
        *,
        timezone: ZoneInfo = BRUSSELS,
        end_of_day: time = END_OF_WORKING_DAY,
    ) -> None:
        self._public_holidays = holidays.country_holidays("BE")
        self._closed = frozenset(extra_closed_days)
        self.timezone = timezone
        self.end_of_day = end_of_day

    def is_working_day(self, day: date) -> bool:
        """False on weekends, Belgian public holidays and configured closing days."""
        return day.weekday() < _SATURDAY and day not in self._public_holidays and day not in self._closed

    def add_working_days(self, start: date, days: int) -> date:
        """The `days`-th working day after `start` (`start` itself never counts)."""
        if days < 1:
            raise ValueError("a deadline needs at least one working day")
        day, counted = start, 0
        while counted < days:
            day += timedelta(days=1)
            if self.is_working_day(day):
                counted += 1
        return day

    def deadline(self, since: datetime, working_days: int) -> datetime:
        """End of the `working_days`-th working day after the (local) day of `since`."""
        local_day = since.astimezone(self.timezone).date()
        due_day = self.add_working_days(local_day, working_days)
        return datetime.combine(due_day, self.end_of_day, tzinfo=self.timezone)

    def working_days_between(self, start: datetime, end: datetime) -> int:
        """Working days after the local day of `start` up to and including that of `end`."""
        first = start.astimezone(self.timezone).date()
        last = end.astimezone(self.timezone).date()
        return sum(
            1 for n in range(1, (last - first).days + 1) if self.is_working_day(first + timedelta(days=n))
        )
