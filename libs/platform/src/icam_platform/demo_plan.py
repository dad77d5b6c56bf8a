"""What `icam up --demo` will do, decided without any server: valid interview slots, open walk-in
desks, and a varied set of made-up households.

Pure functions of the clock, the scheduling rules and a seeded random generator, so that the rules
the invitation service enforces (notice period, working days and hours, one interview per coach
at a time) can be unit-tested here rather than discovered as 422/409 answers.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from icam_contracts.reference import WalkInDeskInfo

BRUSSELS = ZoneInfo("Europe/Brussels")
HolidayCheck = Callable[[date], bool]


def belgian_holidays() -> HolidayCheck:
    """Belgian public holidays from the `holidays` package when installed (the invitation service
    uses it); without it no day is a holiday and the seeder steps past the service's 422."""
    try:
        import holidays
    except ImportError:  # pragma: no cover - the workspace installs it with the invitation service
        return lambda day: False
    calendar = holidays.country_holidays("BE")
    return lambda day: day in calendar


@dataclass(frozen=True)
class SlotPolicy:
    """The invitation service's scheduling rules, read from the same variables it reads."""

    opens: time = time(9)
    closes: time = time(17)
    days: tuple[int, ...] = (0, 1, 2, 3, 4)
    slot: timedelta = timedelta(minutes=60)
    notice_days: int = 5
    is_holiday: HolidayCheck = lambda day: False
    timezone: ZoneInfo = BRUSSELS

    @classmethod
    def from_env(cls, env: Mapping[str, str], is_holiday: HolidayCheck | None = None) -> SlotPolicy:
        opens, closes = env.get("INVITATION_WORKING_HOURS", "09:00-17:00").split("-")
        return cls(
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes),
            days=tuple(int(d) for d in env.get("INVITATION_WORKING_DAYS", "0,1,2,3,4").split(",")),
            slot=timedelta(minutes=float(env.get("INVITATION_SLOT_MINUTES", "60"))),
            # letters go by post: the longer of the two notice periods covers every channel mix
            notice_days=int(env.get("INVITATION_NOTICE_POSTAL_DAYS", "5")),
            is_holiday=is_holiday or (lambda day: False),
        )

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.days and not self.is_holiday(day)

    def opening_of(self, day: date) -> datetime:
        return datetime.combine(day, self.opens, tzinfo=self.timezone)

    def fits(self, start: datetime) -> bool:
        """Whether a slot starting at `start` lies within one working day's hours."""
        local, end = start.astimezone(self.timezone), (start + self.slot).astimezone(self.timezone)
        return (
            self.is_working_day(local.date())
            and local.time() >= self.opens
            and end.date() == local.date()
            and end.time() <= self.closes
        )

    def earliest(self, now: datetime) -> datetime:
        """The first moment an interview may start for an invitation sent at `now`."""
        day, found = now.astimezone(self.timezone).date(), 0
        while found < self.notice_days:
            day += timedelta(days=1)
            found += self.is_working_day(day)
        return max(self.opening_of(day), now)


def valid_slots(
    policy: SlotPolicy, now: datetime, lead: timedelta = timedelta(minutes=2)
) -> Iterator[datetime]:
    """Every valid slot start from the earliest allowed one on, in order, slot after slot.

    `lead` keeps the first slot clear of `now` when the notice period is zero (fast test settings):
    a slot computed here must still lie in the future when the service checks it.
    """
    start = policy.earliest(now + lead)
    day = start.astimezone(policy.timezone).date()
    for _ in range(3660):  # ten years of days: a policy with no working day at all ends the iteration
        if policy.is_working_day(day):
            at = max(policy.opening_of(day), start)
            while policy.fits(at):
                yield at
                at += policy.slot
        day += timedelta(days=1)


def coach_agendas(policy: SlotPolicy, now: datetime, coaches: Sequence[str]) -> dict[str, Iterator[datetime]]:
    """One slot sequence per coach: a coach is never booked twice by the seeder itself, and
    consecutive households of a region go to different coaches (spread, not stacked)."""
    return {coach: valid_slots(policy, now) for coach in coaches}


def open_desks(desks: Sequence[WalkInDeskInfo], now: datetime, is_holiday: HolidayCheck) -> list[str]:
    """Codes of the walk-in desks accepting visitors at `now` (Wednesdays 09:00-12:00 by default)."""
    found = []
    for desk in desks:
        local = now.astimezone(ZoneInfo(desk.timezone))
        if (
            local.weekday() == desk.weekday
            and not is_holiday(local.date())
            and desk.opens <= local.time() < desk.closes
        ):
            found.append(desk.code)
    return found


# Where households live per region (postal code → the region's office) and which languages they speak.
ADDRESSES: dict[str, list[tuple[str, str]]] = {
    "brussels": [("1000", "Bruxelles"), ("1030", "Schaerbeek"), ("1080", "Molenbeek-Saint-Jean")],
    "antwerp_limburg": [("2000", "Antwerpen"), ("2060", "Antwerpen"), ("3500", "Hasselt")],
    "east_west_flanders": [("9000", "Gent"), ("8000", "Brugge"), ("8500", "Kortrijk")],
    "liege": [("4000", "Liège"), ("4020", "Liège"), ("4700", "Eupen")],
    "namur_luxembourg": [("5000", "Namur"), ("6000", "Charleroi"), ("6600", "Bastogne")],
}
LANGUAGES: dict[str, list[str]] = {
    "brussels": ["fr", "nl", "en", "fr"],
    "antwerp_limburg": ["nl", "en", "nl"],
    "east_west_flanders": ["nl", "en", "nl"],
    "liege": ["fr", "de", "en", "fr"],
    "namur_luxembourg": ["fr", "en", "fr"],
}
REGIONS = tuple(ADDRESSES)
# Clearly made-up names ("example", "made up" in the platform's languages): no real person.
FAMILY_NAMES = ("Exemple", "Fictif", "Voorbeeld", "Verzonnen", "Beispiel", "Erfunden", "Sample", "Madeup")
GIVEN_NAMES = ("Alex", "Sam", "Noor", "Robin", "Kim", "Lou", "Yari", "Mika", "Dani", "Jo")
STREETS = ("Rue de l'Exemple", "Voorbeeldstraat", "Beispielweg", "Avenue Fictive", "Demolaan")

# What happens to a household after first contact; the cycle gives every read model some content.
FATES = ("invited", "B_departed", "A", "interviewed", "C", "B_acknowledged", "B_departed", "invited")


@dataclass(frozen=True)
class DemoHousehold:
    """A made-up household with where it lives, how it came in and how far its trajectory goes."""

    household_id: str
    region: str
    language: str
    members: list[dict[str, Any]]
    entry: str  # "invitation_letter", "helpline_phone", "helpline_email" or "walk_in"
    fate: str  # one of FATES

    @property
    def adult_id(self) -> str:
        return str(self.members[0]["person_id"])

    @property
    def minors(self) -> int:
        return len(self.members) - 1


def make_household(rng: random.Random, index: int, desks_open_in: set[str]) -> DemoHousehold:
    """The `index`-th household of a batch: regions, languages, entry channels and fates in rotation."""
    region = REGIONS[index % len(REGIONS)]
    language = rng.choice(LANGUAGES[region])
    postal_code, municipality = rng.choice(ADDRESSES[region])
    family = rng.choice(FAMILY_NAMES)
    tag = uuid.uuid4().hex[:8].upper()
    adult = {
        "role": "adult",
        "person_id": f"DEMO{tag}",
        "given_name": rng.choice(GIVEN_NAMES),
        "family_name": family,
        "preferred_language": language,
        "contact": {
            "postal_address": {
                "street": rng.choice(STREETS),
                "house_number": str(rng.randint(1, 180)),
                "postal_code": postal_code,
                "municipality": municipality,
            },
            "email": f"demo-{tag.lower()}@example.org",
            "phone": f"+3247{rng.randint(0, 9999999):07d}",
        },
    }
    minors = rng.choice((0, 0, 0, 1, 2, 3))  # about half are families with children
    children = [
        {
            "role": "minor",
            "person_id": f"DEMO{tag}{i + 1}",
            "given_name": rng.choice(GIVEN_NAMES),
            "family_name": family,
            "birth_date": date(2012 + rng.randint(0, 10), rng.randint(1, 12), rng.randint(1, 28)).isoformat(),
        }
        for i in range(minors)
    ]
    entry = "invitation_letter"
    if region in desks_open_in and index % 3 == 0:
        entry = "walk_in"
    elif index % 4 == 1:
        entry = "helpline_phone" if index % 8 == 1 else "helpline_email"
    return DemoHousehold(
        str(uuid.uuid4()), region, language, [adult, *children], entry, FATES[index % len(FATES)]
    )
