"""What the invitation form shows before the invitation service decides: the earliest valid date,
working hours and days, and the Belgian public holidays ahead.

Hints only, from the same variables the invitation service reads (INVITATION_WORKING_HOURS, ...):
the service stays the judge, and its refusal (with `earliest_valid_date`) is shown next to the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import holidays

from icam_web.i18n import BRUSSELS


@lru_cache(maxsize=64)
def _holidays(year: int, language: str) -> dict[date, str]:
    names = holidays.country_holidays("BE", years=year, language=language)
    return dict(names.items())


def holiday_name(day: date, language: str = "fr") -> str | None:
    return _holidays(day.year, language if language in ("fr", "nl", "de") else "en_US").get(day)


@dataclass(frozen=True)
class SchedulingHints:
    opens: time = time(9)
    closes: time = time(17)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    slot_minutes: float = 60
    notice_postal_days: int = 5
    notice_electronic_days: int = 2

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SchedulingHints:
        env = os.environ if env is None else env
        opens, closes = env.get("INVITATION_WORKING_HOURS", "09:00-17:00").split("-")
        return cls(
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes),
            days=tuple(int(d) for d in env.get("INVITATION_WORKING_DAYS", "0,1,2,3,4").split(",")),
            slot_minutes=float(env.get("INVITATION_SLOT_MINUTES", "60")),
            notice_postal_days=int(env.get("INVITATION_NOTICE_POSTAL_DAYS", "5")),
            notice_electronic_days=int(env.get("INVITATION_NOTICE_ELECTRONIC_DAYS", "2")),
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and holiday_name(day) is None

    def earliest(self, now: datetime, postal: bool) -> datetime:
        """The first moment an interview may start for an invitation sent `now`."""
        day, found = now.astimezone(BRUSSELS).date(), 0
        notice = self.notice_postal_days if postal else self.notice_electronic_days
        while found < notice:
            day += timedelta(days=1)
            found += self.is_working_day(day)
        while not self.is_working_day(day):
            day += timedelta(days=1)
        return max(datetime.combine(day, self.opens, tzinfo=BRUSSELS), now)

    def holidays_ahead(self, start: date, days: int, language: str) -> list[tuple[date, str]]:
        found = []
        for offset in range(days):
            day = start + timedelta(days=offset)
            name = holiday_name(day, language)
            if name:
                found.append((day, name))
        return found
