"""The load driver: households through the trajectory via the gateway, at a steady command rate,
timing how long each accepted command takes to show in the read models downstream of it."""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from load_watch import ReadModelWatcher

from icam_auth import Principal, Role
from icam_platform import journeys as j

T = TypeVar("T")
# (region, postal code, language): every region and language, so every office and template works
HOMES = (
    ("brussels", "1000", "fr"),
    ("antwerp_limburg", "2000", "nl"),
    ("east_west_flanders", "9000", "nl"),
    ("liege", "4700", "de"),
    ("namur_luxembourg", "5000", "en"),
)
DESKS = {"brussels": "brussels_pacheco", "antwerp_limburg": "antwerp_italielei", "liege": "liege_fragnee"}
# trajectory mix: B (referral → departure) most, A (suspended) and C (walk-in → closed) the rest
KINDS = ("B", "B", "A", "B", "C")
ADMIN = Principal("bench-admin", Role.ADMIN)


class RateLimiter:
    """Spaces commands `1/rate` seconds apart across all journeys (a steady, not bursty, load)."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self.next_at = time.perf_counter()
        self.lock = asyncio.Lock()

    async def acquire(self) -> None:
        async with self.lock:
            now = time.perf_counter()
            self.next_at = max(self.next_at + self.interval, now)
            wait = self.next_at - now
        if wait > 0:
            await asyncio.sleep(wait)


@dataclass
class Journey:
    """What the consistency check needs to know of one household's run."""

    index: int
    kind: str
    region: str
    household_id: str
    coach: Principal
    correlation_id: str | None = None
    entry_id: str | None = None  # invitation id, or walk-in visit id
    case_id: str | None = None
    referral_id: str | None = None
    error: str | None = None


@dataclass
class Metrics:
    commands: Counter[str] = field(default_factory=Counter)  # "ok", or the failing HTTP status
    propagation: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    started: float = field(default_factory=time.perf_counter)
    finished: float = 0.0


@dataclass
class Driver:
    gw: j.Gateway
    limiter: RateLimiter
    metrics: Metrics
    watch: ReadModelWatcher
    timeout: float = 60.0

    async def command(self, send: Awaitable[T]) -> tuple[T, float]:
        """One rate-limited command; returns its answer and the moment its 2xx arrived."""
        try:
            result = await send
        except j.GatewayError as error:
            self.metrics.commands[str(error.status)] += 1
            raise
        self.metrics.commands["ok"] += 1
        return result, time.perf_counter()

    async def propagated(self, since: float, **waits: tuple[str, str]) -> list[dict[str, Any]]:
        """Wait until each read model shows the command's effect (`name=(condition, key)`); each
        latency is recorded under its name, and with several, the time until all showed it."""

        async def until(name: str, condition: str, key: str) -> tuple[dict[str, Any], float]:
            row, seen = await self.watch.until(condition, key, self.timeout)
            self.metrics.propagation[name].append(seen - since)
            return row, seen

        results = await asyncio.gather(*(until(name, *wait) for name, wait in waits.items()))
        if len(waits) > 1:
            self.metrics.propagation[f"all of: {' + '.join(waits)}"].append(
                max(s for _, s in results) - since
            )
        return [row for row, _ in results]

    async def run(self, journey: Journey) -> None:
        try:
            await self._trajectory(journey)
        except (j.GatewayError, TimeoutError, httpx.TransportError) as error:
            journey.error = str(error)[:300]

    async def _trajectory(self, jr: Journey) -> None:
        region, postal, language = HOMES[jr.index % len(HOMES)]
        home = j.Household(jr.household_id, j.household(language=language, postal_code=postal).members)
        coach, gw = jr.coach, self.gw
        await self.limiter.acquire()
        if jr.kind == "C":
            sent, t0 = await self.command(
                j.register_walk_in(gw, coach, home, DESKS[region], language=language)
            )
        else:
            sent, t0 = await self.command(j.send_invitation(gw, coach, home, at=j.soon(600)))
        jr.correlation_id, jr.entry_id = sent["correlation_id"], sent["stream_id"]
        opened = ("case in caseload", jr.household_id)
        if jr.kind == "C":  # seen on the spot: no letter, the case is the only read model downstream
            (case,) = await self.propagated(t0, **{"walk-in → case in caseload": opened})
        else:
            told = ("notification recorded", jr.household_id)
            waits = {"invitation → case in caseload": opened, "invitation → notification recorded": told}
            (case, _) = await self.propagated(t0, **waits)
        jr.case_id = case["case_id"]
        await self.limiter.acquire()
        _, t0 = await self.command(j.hold_interview(gw, coach, case["case_id"], home, language=language))
        if jr.kind != "C":
            honoured = ("invitation honoured", str(jr.entry_id))
            await self.propagated(t0, **{"interview → invitation honoured": honoured})
        await self.limiter.acquire()
        await self._decide(jr, language)

    async def _decide(self, jr: Journey, language: str) -> None:
        assert jr.case_id
        gw, coach, case_id = self.gw, jr.coach, jr.case_id
        if jr.kind == "A":
            a = {"procedure_explained": True, "stay_procedure_started": True}
            await self.command(
                j.decide_outcome(gw, coach, case_id, "legal_stay_possible", language=language, **a)
            )
            return
        if jr.kind == "C":
            lead = j.team_lead(f"bench-lead-{coach.region}", str(coach.region))
            await self.command(j.refuse_return(gw, coach, lead, case_id, language=language))
            return
        fedasil = j.partner("bench-partner-fedasil", "fedasil")
        b = {"consent_to_referral": True, "preferred_partner": "fedasil"}
        _, t0 = await self.command(
            j.decide_outcome(gw, coach, case_id, "return_accepted", language=language, **b)
        )
        referred = ("referral in partner inbox", case_id)
        (referral,) = await self.propagated(t0, **{"outcome B → referral in partner inbox": referred})
        jr.referral_id = referral["referral_id"]
        await self.limiter.acquire()
        await self.command(j.acknowledge(gw, fedasil, referral["referral_id"]))
        await self.limiter.acquire()
        _, t0 = await self.command(j.record_departure(gw, fedasil, referral["referral_id"]))
        await self.propagated(t0, **{"departure → case closed": ("case closed", case_id)})


def journeys_to_run(count: int, seed: int = 1, first: int = 0) -> list[Journey]:
    """`count` journeys, each with its own coach (no double booking, a one-row caseload to poll);
    `first` numbers them after others (a warm-up's)."""
    rng = random.Random(seed)
    result = []
    for i in range(first, first + count):
        region = HOMES[i % len(HOMES)][0]
        kind = rng.choice(KINDS)
        if kind == "C" and region not in DESKS:
            kind = "A"  # walk-in desks exist in three regions only
        coach = Principal(f"bench-coach-{i}", Role.COACH, region=region)
        result.append(Journey(i, kind, region, str(uuid.uuid4()), coach))
    return result


async def drive_all(driver: Driver, journeys: list[Journey], concurrency: int) -> None:
    """Every journey, at most `concurrency` in flight."""
    gate = asyncio.Semaphore(concurrency)

    async def one(jr: Journey) -> None:
        async with gate:
            await driver.run(jr)

    await asyncio.gather(*(one(jr) for jr in journeys))
    driver.metrics.finished = time.perf_counter()
