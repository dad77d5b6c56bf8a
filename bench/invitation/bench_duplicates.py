"""Duplicate detection at first contact against a large programme, and its quality.

    uv run python bench/invitation/bench_duplicates.py [--households 100000] [--checks 1000]

Seeds the invitation service's `people` read model with made-up households (1 to 4 members, names
from several naming traditions, written in Latin, Arabic or Cyrillic script), then times
`duplicates.possible_households` for people met again (a variant of a known person) and for
people met for the first time, against a real PostgreSQL (the test servers). Also prints the
precision and recall of the made-up variant set (services/invitation/tests/name_variants.py) at
the "possible" and "likely" lines. Target: p95 < 50 ms at 100,000 households.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg

from icam_invitation import duplicates
from icam_invitation.domain import matching
from icam_invitation.projections import PeopleIndex
from icam_kernel.migrations import apply_migrations
from icam_platform.infra import postgres
from icam_testing import servers

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "invitation" / "tests"))
from name_variants import DIFFERENT, SAME

GIVEN = [
    "Mohammed", "Ahmed", "Fatima", "Aisha", "Youssef", "Omar", "Amina", "Ibrahim", "Hassan", "Zainab",
    "Olga", "Ivan", "Sergei", "Natalia", "Dmitri", "Anna", "Mariam", "Tariq", "Karim", "Leila",
    "Abdullah", "Hamza", "Khadija", "Samir", "Nour", "Yasmine", "Bilal", "Sara", "Ali", "Rania",
    "Mamadou", "Fatoumata", "Ousmane", "Aminata", "Moussa", "Mariama", "Thi Lan", "Van An", "Minh", "Linh",
]  # fmt: skip
FAMILY = [
    "Ali", "Hassan", "Diallo", "Bangura", "Karimi", "Rahimi", "Haddad", "El Amrani", "Benali", "Aziz",
    "Ivanov", "Petrenko", "Kuznetsov", "Aliyev", "Kovalenko", "Nguyen", "Tran", "Traore", "Camara", "Sow",
    "Mansour", "Saleh", "Yousef", "Farouk", "Qasim", "Bakr", "Hussein", "Abdi", "Osman", "Mohamud",
]  # fmt: skip
NATIONS = ["MA", "DZ", "AF", "SY", "GN", "SL", "UA", "RU", "VN", "SO", "IQ", "ER"]
SEEN = datetime(2026, 1, 1, tzinfo=UTC)
SCRIPTS = {
    "Mohammed": "محمد",
    "Ali": "علي",
    "Fatima": "فاطمة",
    "Ahmed": "أحمد",
    "Olga": "Ольга",
    "Ivanov": "Иванов",
}


def made_up_person(rng: random.Random) -> matching.Person:
    born = date(1950, 1, 1) + timedelta(days=rng.randrange(26000))
    return matching.Person(
        f"OE{rng.randrange(10**9):09d}", rng.choice(GIVEN), rng.choice(FAMILY), born, rng.choice(NATIONS)
    )


def met_again(person: matching.Person, rng: random.Random) -> matching.Person:
    """The same person written another way: another script, a dropped letter, no dossier reference."""
    given, family = person.given_name or "", person.family_name or ""
    if rng.random() < 0.3:
        given = SCRIPTS.get(given, given)
    elif rng.random() < 0.5 and len(given) > 4:
        cut = rng.randrange(1, len(given) - 1)
        given = given[:cut] + given[cut + 1 :]
    return matching.Person(None, given, family, person.birth_date, person.nationality)


async def seed(pool: asyncpg.Pool, households: int, rng: random.Random) -> list[matching.Person]:
    people: list[matching.Person] = []
    rows: list[tuple[Any, ...]] = []
    for _ in range(households):
        household = uuid.uuid4()
        for _ in range(rng.choice((1, 1, 2, 3, 4))):
            p = made_up_person(rng)
            people.append(p)
            rows.append((household, p.person_id, p.given_name, p.family_name, p.birth_date, p.nationality,
                         matching.name_key(p), matching.skeletons(p), "brussels"))  # fmt: skip
    async with pool.acquire() as conn:
        await conn.copy_records_to_table(
            "people",
            records=[(*r, SEEN) for r in rows],
            columns=[
                "household_id",
                "person_id",
                "given_name",
                "family_name",
                "birth_date",
                "nationality",
                "name_key",
                "skeletons",
                "region",
                "first_seen_at",
            ],
        )
        await conn.execute("analyze people")
    return people


async def timed(pool: asyncpg.Pool, queries: list[matching.Person]) -> list[float]:
    latencies = []
    async with pool.acquire() as conn:
        for person in queries:
            started = time.perf_counter()
            await duplicates.possible_households(conn, [person])
            latencies.append((time.perf_counter() - started) * 1000)
    return latencies


def quality() -> dict[str, float]:
    def known(p: matching.Person) -> matching.Known:
        return matching.Known(
            p.person_id, p.given_name, p.family_name, p.birth_date, p.nationality, uuid.uuid4()
        )

    result = {}
    for line, threshold in (("possible", matching.THRESHOLD), ("likely", matching.LIKELY)):
        tp = sum(matching.score(b, known(a)).score >= threshold for a, b in SAME)
        fp = sum(matching.score(b, known(a)).score >= threshold for a, b in DIFFERENT)
        result[f"{line}_precision"] = tp / (tp + fp) if tp + fp else 1.0
        result[f"{line}_recall"] = tp / len(SAME)
    return result


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else values[0]


async def main(found: servers.Servers, households: int, checks: int) -> None:
    rng = random.Random(7)
    name = f"bench_duplicates_{uuid.uuid4().hex[:6]}"
    if True:  # the servers come from the caller, provided outside the event loop
        url = await postgres.ensure_database(found.database_url, name)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        assert pool is not None
        try:
            await apply_migrations(pool)
            async with pool.acquire() as conn:
                await conn.execute(PeopleIndex.schema_sql)
            started = time.perf_counter()
            people = await seed(pool, households, rng)
            took = time.perf_counter() - started
            print(f"seeded {households:,} households ({len(people):,} people) in {took:.1f} s")
            again = [met_again(rng.choice(people), rng) for _ in range(checks // 2)]
            new = [made_up_person(rng) for _ in range(checks - len(again))]
            for label, queries in (("met again", again), ("first contact", new)):
                ms = await timed(pool, queries)
                p50, p95, p99 = (percentile(ms, q) for q in (50, 95, 99))
                figures = f"p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  p99 {p99:6.1f} ms"
                print(f"{label:14} {figures}  (p95 is {p95 / 50:.2f} of the 50 ms target)")
            print("quality on the made-up variant set:", {k: round(v, 2) for k, v in quality().items()})
        finally:
            await pool.close()
            await postgres.drop_database(found.database_url, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--households", type=int, default=100_000)
    parser.add_argument("--checks", type=int, default=1000)
    args = parser.parse_args()
    with servers.provide() as found:
        asyncio.run(main(found, args.households, args.checks))
