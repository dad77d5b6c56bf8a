"""Settings of the invitation service, from the environment, with defaults for every rule.

| variable | default | meaning |
|---|---|---|
| `DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`, `ICAM_SERVICE_NAME` | (kernel) | where to connect |
| `ICAM_TOPIC_PREFIX` | `` | prefix of every topic name (tests use a unique one) |
| `INVITATION_EVENTS_TOPIC` | prefix + `icam.invitation.events` | explicit topic |
| `CASE_EVENTS_TOPIC` | prefix + `icam.case.events` | explicit topic |
| `INVITATION_CONSUMER_GROUP` | `icam-invitation` | consumer group for case events |
| `INVITATION_WORKING_HOURS` | `09:00-17:00` | interview hours, Europe/Brussels |
| `INVITATION_WORKING_DAYS` | `0,1,2,3,4` | interview weekdays (0 = Monday) |
| `INVITATION_SLOT_MINUTES` | `60` | length of an interview slot (fractions allowed, for tests) |
| `INVITATION_NOTICE_POSTAL_DAYS` | `5` | working days between a letter and the interview |
| `INVITATION_NOTICE_ELECTRONIC_DAYS` | `2` | working days between an e-mail/SMS and the interview |
| `INVITATION_MAX_RESCHEDULES` | `2` | how often one invitation may be moved |
| `INVITATION_HORIZON_DAYS` | `365` | how far ahead an interview may be booked |
| `INVITATION_NO_SHOW_GRACE_SECONDS` | `7200` | after the slot's end, before a no-show is recorded |
| `INVITATION_REMINDER_DAYS_BEFORE` | `2` | reminder this many days before the slot (0: none) |
| `INVITATION_HONOUR_MATCH_HOURS` | `12` | window to match an interview without invitation id |
| `INVITATION_POSTAL_RANGES` | (built in) | JSON file of `{first, last, province, office}` rows |
| `ICAM_REFERENCE_DATA` | (built in) | offices, regions, desks (see `icam_contracts.reference`) |
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

from icam_contracts.reference import ReferenceData, load_reference_data
from icam_contracts.topics import CASE_EVENTS, INVITATION_EVENTS, consumer_group
from icam_invitation.domain import (
    DEFAULT_POSTAL_RANGES,
    Desk,
    DeskHours,
    NoticePeriod,
    OfficeFinder,
    PostalRange,
    SchedulingPolicy,
    WorkingHours,
)
from icam_invitation.domain.offices import office_finder
from icam_kernel.service import ServiceSettings

SERVICE = "invitation"


def utc_now() -> datetime:
    """The real clock; tests pass another one."""
    return datetime.now(UTC)


@dataclass(frozen=True)
class Settings:
    """Everything the invitation service is configured with."""

    service: ServiceSettings
    invitation_topic: str = INVITATION_EVENTS
    case_topic: str = CASE_EVENTS
    consumer_group: str = consumer_group(SERVICE)
    policy: SchedulingPolicy = field(default_factory=SchedulingPolicy)
    no_show_grace: timedelta = timedelta(hours=2)
    reminder_before: timedelta = timedelta(days=2)
    honour_match_window: timedelta = timedelta(hours=12)
    postal_ranges: tuple[PostalRange, ...] = DEFAULT_POSTAL_RANGES
    reference: ReferenceData = field(default_factory=load_reference_data)
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read the variables of the table above; unset ones take the defaults."""
        env = os.environ if env is None else env
        prefix = env.get("ICAM_TOPIC_PREFIX", "")
        opens, closes = env.get("INVITATION_WORKING_HOURS", "09:00-17:00").split("-")
        hours = WorkingHours(
            opens=time.fromisoformat(opens),
            closes=time.fromisoformat(closes),
            days=tuple(int(d) for d in env.get("INVITATION_WORKING_DAYS", "0,1,2,3,4").split(",")),
        )
        policy = SchedulingPolicy(
            hours=hours,
            notice=NoticePeriod(
                postal_working_days=int(env.get("INVITATION_NOTICE_POSTAL_DAYS", "5")),
                electronic_working_days=int(env.get("INVITATION_NOTICE_ELECTRONIC_DAYS", "2")),
            ),
            slot_duration=timedelta(minutes=float(env.get("INVITATION_SLOT_MINUTES", "60"))),
            max_reschedules=int(env.get("INVITATION_MAX_RESCHEDULES", "2")),
            horizon=timedelta(days=float(env.get("INVITATION_HORIZON_DAYS", "365"))),
        )
        ranges_file = env.get("INVITATION_POSTAL_RANGES")
        return cls(
            service=ServiceSettings.from_env(SERVICE),
            invitation_topic=env.get("INVITATION_EVENTS_TOPIC", prefix + INVITATION_EVENTS),
            case_topic=env.get("CASE_EVENTS_TOPIC", prefix + CASE_EVENTS),
            consumer_group=env.get("INVITATION_CONSUMER_GROUP", consumer_group(SERVICE)),
            policy=policy,
            no_show_grace=timedelta(seconds=float(env.get("INVITATION_NO_SHOW_GRACE_SECONDS", "7200"))),
            reminder_before=timedelta(days=float(env.get("INVITATION_REMINDER_DAYS_BEFORE", "2"))),
            honour_match_window=timedelta(hours=float(env.get("INVITATION_HONOUR_MATCH_HOURS", "12"))),
            postal_ranges=load_postal_ranges(Path(ranges_file)) if ranges_file else DEFAULT_POSTAL_RANGES,
        )

    @property
    def offices(self) -> OfficeFinder:
        """Postal code -> office -> region, over the reference data."""
        return office_finder(self.reference, self.postal_ranges)

    def desks(self) -> dict[str, Desk]:
        """The walk-in desks of the reference data, by code."""
        return {
            d.code: Desk(d.code, d.office, DeskHours(weekday=d.weekday, opens=d.opens, closes=d.closes))
            for d in self.reference.desks
        }


def load_postal_ranges(path: Path) -> tuple[PostalRange, ...]:
    """Postal-code ranges from a JSON list of {first, last, province, office}."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    return tuple(
        PostalRange(int(r["first"]), int(r["last"]), str(r["province"]), str(r["office"])) for r in rows
    )
