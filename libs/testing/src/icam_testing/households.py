"""Households through trajectories A, B and C while faults happen, as a careful client would drive
them: every command under an `Idempotency-Key`, sent again with the same key and body while the
platform answers 502/503/504 or does not answer at all, every read retried likewise.

What each journey was accepted is kept (`Journey`), for the invariants (`icam_testing.invariants`).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from icam_auth import Principal, Role
from icam_platform import journeys as j

RETRIED_STATUSES = frozenset({502, 503, 504})
DESKS = {"brussels": "brussels_pacheco", "antwerp_limburg": "antwerp_italielei", "liege": "liege_fragnee"}
HOMES = {"brussels": ("1000", "fr"), "antwerp_limburg": ("2000", "nl"), "liege": ("4000", "fr")}
FEDASIL = j.partner("faults-partner-fedasil", "fedasil")
ADMIN = Principal("faults-admin", Role.ADMIN)


class ResilientGateway(j.Gateway):
    """A gateway client that outlasts faults: commands keep their key and body across attempts."""

    patience: float = 120.0  # how long one call may keep trying
    retried: int = 0

    async def post(self, principal: Principal, path: str, body: Any) -> Any:
        key = str(uuid.uuid4())
        return await self._until_answered(principal, "POST", path, json=body, key=key)

    async def get(self, principal: Principal, path: str, **params: Any) -> Any:
        params = {k: v for k, v in params.items() if v is not None}
        return await self._until_answered(principal, "GET", path, params=params)

    async def _until_answered(
        self, principal: Principal, method: str, path: str, *, key: str = "", **kw: Any
    ) -> Any:
        headers = {"authorization": f"Bearer {self.tokens(principal)}"} | (
            {"idempotency-key": key} if key else {}
        )
        deadline = time.monotonic() + self.patience
        while True:
            try:
                response = await self.client.request(method, self.base_url + path, headers=headers, **kw)
                if response.status_code not in RETRIED_STATUSES:
                    return j._body_or_raise(method, path, response)
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{method} {path} not answered within {self.patience:.0f}s")
            self.retried += 1
            await asyncio.sleep(0.25)


@dataclass
class Journey:
    """One household's run: its kind, the ids it was given, how long it took, what went wrong."""

    kind: str
    region: str
    coach: Principal
    household_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    correlation_id: str | None = None
    entry_id: str | None = None  # invitation or walk-in visit
    case_id: str | None = None
    referral_id: str | None = None
    started: float = 0.0
    seconds: float | None = None
    error: str | None = None


def journeys(count: int, tag: str, first: int = 0) -> list[Journey]:
    """`count` journeys cycling through B, A and C (from the `first`-th), each with a coach of its own."""
    regions = list(HOMES)
    made = []
    for i in range(first, first + count):
        kind = "BAC"[i % 3]
        region = regions[i % len(regions)]
        made.append(Journey(kind, region, j.coach(f"faults-{tag}-coach-{i}", region)))
    return made


async def keep_running(gw: ResilientGateway, lanes: int, tag: str, until: asyncio.Event) -> list[Journey]:
    """Journeys one after another in each of `lanes` lanes, until `until` is set (one per lane at
    least): households are under way whenever a fault strikes."""
    done: list[Journey] = []

    async def lane(index: int) -> None:
        n = 0
        while not n or not until.is_set():
            [journey] = journeys(1, f"{tag}-{index}", first=index + n)
            done.append(await run(gw, journey))
            n += 1

    await asyncio.gather(*(lane(i) for i in range(lanes)))
    return done


async def run(gw: ResilientGateway, journey: Journey) -> Journey:
    journey.started = time.monotonic()
    try:
        await _trajectory(gw, journey)
        journey.seconds = time.monotonic() - journey.started
    except (j.GatewayError, TimeoutError, httpx.HTTPError) as error:
        journey.error = f"{type(error).__name__}: {str(error)[:300]}"
    return journey


async def _trajectory(gw: ResilientGateway, jr: Journey) -> None:
    postal, language = HOMES[jr.region]
    home = j.Household(jr.household_id, j.household(language=language, postal_code=postal).members)
    if jr.kind == "C":
        entry = await j.register_walk_in(gw, jr.coach, home, DESKS[jr.region], language=language)
    else:
        entry = await j.send_invitation(gw, jr.coach, home, at=j.soon(600))
    jr.correlation_id, jr.entry_id = entry["correlation_id"], entry["stream_id"]
    case = await j.find_case(gw, jr.coach, jr.household_id, timeout=120, coach=jr.coach.subject)
    jr.case_id = str(case["case_id"])
    await j.hold_interview(gw, jr.coach, jr.case_id, home, language=language)
    if jr.kind == "A":
        extra = {"procedure_explained": True, "stay_procedure_started": True}
        await j.decide_outcome(gw, jr.coach, jr.case_id, "legal_stay_possible", language=language, **extra)
        await j.wait_for_status(gw, jr.coach, jr.case_id, "suspended", timeout=120)
    elif jr.kind == "C":
        lead = j.team_lead(f"lead-{jr.region}", jr.region)  # outcome C takes effect on approval
        await j.refuse_return(gw, jr.coach, lead, jr.case_id, language=language)
        await j.wait_for_status(gw, jr.coach, jr.case_id, "closed", timeout=120)
    else:
        await _return_with_fedasil(gw, jr, language)


async def _return_with_fedasil(gw: ResilientGateway, jr: Journey, language: str) -> None:
    assert jr.case_id is not None
    consent = {"consent_to_referral": True, "preferred_partner": "fedasil"}
    await j.decide_outcome(gw, jr.coach, jr.case_id, "return_accepted", language=language, **consent)
    referral = await j.referral_of_case(gw, FEDASIL, jr.case_id, timeout=120)
    jr.referral_id = str(referral["referral_id"])
    await j.acknowledge(gw, FEDASIL, jr.referral_id)
    await j.record_departure(gw, FEDASIL, jr.referral_id)
    await j.wait_for_status(gw, jr.coach, jr.case_id, "closed", timeout=120)
