"""The demo's slot planning obeys the invitation service's rules, so seeding never guesses."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from itertools import islice

import pytest

from icam_contracts.reference import DEFAULT_REFERENCE_DATA
from icam_platform.demo_plan import (
    BRUSSELS,
    REGIONS,
    SlotPolicy,
    belgian_holidays,
    coach_agendas,
    make_household,
    open_desks,
    valid_slots,
)

pytestmark = pytest.mark.unit

PRODUCTION = SlotPolicy.from_env({}, belgian_holidays())


def at(day: str, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=BRUSSELS)


def test_a_letter_sent_on_a_monday_invites_no_earlier_than_the_fifth_working_day_at_opening() -> None:
    # Monday 2 March 2026 → five working days later is Monday 9 March, 09:00
    assert PRODUCTION.earliest(at("2026-03-02", 15)) == at("2026-03-09", 9)


def test_weekends_and_belgian_public_holidays_are_skipped() -> None:
    # Friday 18 Dec 2026 + 5 working days skips two weekends and Christmas (Friday 25) → Monday 28
    assert PRODUCTION.earliest(at("2026-12-18", 10)) == at("2026-12-28", 9)


def test_slots_fill_working_hours_then_continue_on_the_next_working_day() -> None:
    slots = list(islice(valid_slots(PRODUCTION, at("2026-03-02", 15)), 9))
    assert slots[0] == at("2026-03-09", 9)
    assert slots[7] == at("2026-03-09", 16)  # the last hour that ends by 17:00
    assert slots[8] == at("2026-03-10", 9)
    assert all(PRODUCTION.fits(s) for s in slots)


def test_every_coach_gets_distinct_future_slots_and_coaches_are_spread() -> None:
    now = at("2026-03-04", 10)
    agendas = coach_agendas(PRODUCTION, now, ["c1", "c2"])
    c1 = [next(agendas["c1"]) for _ in range(20)]
    assert len(set(c1)) == 20 and all(s > now for s in c1)
    assert next(agendas["c2"]) == c1[0]  # two coaches may see people at the same hour


def test_with_the_fast_test_settings_the_first_slot_lies_just_ahead_of_now() -> None:
    fast = SlotPolicy.from_env(
        {
            "INVITATION_NOTICE_POSTAL_DAYS": "0",
            "INVITATION_WORKING_DAYS": "0,1,2,3,4,5,6",
            "INVITATION_WORKING_HOURS": "00:00-23:59:59",
            "INVITATION_SLOT_MINUTES": "0.05",
        }
    )
    now = at("2026-03-07", 12)  # a Saturday
    first, second = islice(valid_slots(fast, now), 2)
    assert now < first <= now + timedelta(minutes=3)
    assert second - first == timedelta(seconds=3)


def test_walk_in_desks_are_open_on_wednesday_mornings_only() -> None:
    desks = DEFAULT_REFERENCE_DATA.desks
    no_holiday = SlotPolicy().is_holiday
    assert len(open_desks(desks, at("2026-03-04", 9, 30), no_holiday)) == 3  # a Wednesday
    assert open_desks(desks, at("2026-03-04", 12), no_holiday) == []
    assert open_desks(desks, at("2026-03-05", 10), no_holiday) == []  # Thursday
    assert open_desks(desks, at("2026-12-30", 10), lambda d: d == date(2026, 12, 30)) == []


def test_a_batch_covers_every_region_language_families_and_entry_channels() -> None:
    rng = random.Random(7)
    batch = [make_household(rng, i, {"brussels", "liege"}) for i in range(40)]
    assert {h.region for h in batch} == set(REGIONS)
    assert {h.language for h in batch} == {"fr", "nl", "de", "en"}
    assert any(h.minors for h in batch) and any(not h.minors for h in batch)
    assert {h.entry for h in batch} >= {"invitation_letter", "helpline_phone", "walk_in"}
    assert all(h.region in {"brussels", "liege"} for h in batch if h.entry == "walk_in")
    assert all(m["family_name"] in {"Exemple", "Fictif", "Voorbeeld", "Verzonnen", "Beispiel", "Erfunden",
                                    "Sample", "Madeup"} for h in batch for m in h.members)  # fmt: skip
