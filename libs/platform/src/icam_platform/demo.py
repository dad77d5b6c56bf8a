"""`icam up --demo`: made-up households across the regions, driven through the trajectory via the
gateway, so that every read model and dashboard has something to show.

Each run adds a new batch (new household ids, new names); slots already taken by an earlier batch
answer 409 and the seeder moves its coach to the next valid slot.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from icam_auth import Principal, Role, staff
from icam_contracts.reference import ReferenceData, load_reference_data
from icam_platform import journeys as j
from icam_platform.demo_plan import (
    REGIONS,
    DemoHousehold,
    SlotPolicy,
    belgian_holidays,
    coach_agendas,
    make_household,
    open_desks,
)

# the same made-up staff the local OpenID provider lists on its sign-in page
COACHES_PER_REGION = staff.COACHES_PER_REGION
PARTNERS = tuple(staff.PARTNERS)
MAX_SLOT_ATTEMPTS = 40


def coach_of(region: str, n: int) -> Principal:
    return Principal(f"demo-coach-{region}-{n}", Role.COACH, region=region)


def lead_of(region: str) -> Principal:
    return Principal(f"demo-lead-{region}", Role.TEAM_LEAD, region=region)


def partner_of(code: str) -> Principal:
    return Principal(f"demo-partner-{code}", Role.RETURN_PARTNER, organisation=code)


@dataclass
class Outcome:
    """What one household's run reached, for the summary."""

    household: DemoHousehold
    entry: str = ""
    case_id: str | None = None
    referral: str | None = None
    error: str | None = None


@dataclass
class Seeder:
    """Drives one batch of demo households through the gateway."""

    gw: j.Gateway
    policy: SlotPolicy
    reference: ReferenceData
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    agendas: dict[str, Iterator[datetime]] = field(default_factory=dict)
    desk_of_region: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        coaches = [coach_of(r, n).subject for r in REGIONS for n in range(1, COACHES_PER_REGION + 1)]
        self.agendas = coach_agendas(self.policy, self.now, coaches)
        offices = {o.code: o.region for o in self.reference.offices}
        for code in open_desks(self.reference.desks, self.now, self.policy.is_holiday):
            desk = next(d for d in self.reference.desks if d.code == code)
            self.desk_of_region.setdefault(offices[desk.office], code)

    async def book(self, coach: Principal, send: Any) -> dict[str, Any]:
        """Send with the coach's next free slot; a slot taken (409) or refused (422) moves on."""
        last: j.GatewayError | None = None
        for _ in range(MAX_SLOT_ATTEMPTS):
            at = next(self.agendas[coach.subject]).isoformat()
            try:
                result: dict[str, Any] = await send(at)
                return result
            except j.GatewayError as error:
                if error.status not in (409, 422):
                    raise
                last = error
        raise RuntimeError(f"no free slot for {coach.subject} after {MAX_SLOT_ATTEMPTS} tries: {last}")

    async def first_contact(self, h: DemoHousehold, home: j.Household, coach: Principal) -> str:
        """Invitation letter, helpline request answered with an invitation, or walk-in (when open);
        returns the entry channel used."""
        if h.entry == "walk_in":
            try:
                desk = self.desk_of_region[h.region]
                await j.register_walk_in(self.gw, coach, home, desk, language=h.language)
                return h.entry
            except j.GatewayError as error:
                if error.status not in (409, 422):  # coach busy (an earlier batch) or desk just closed
                    raise
            channels: tuple[str, ...] = ("postal_letter", "email")
            await self.book(
                coach, lambda at: j.send_invitation(self.gw, coach, home, at=at, channels=channels)
            )
            return "invitation_letter"
        if h.entry.startswith("helpline"):
            request = await j.request_appointment(self.gw, coach, home, language=h.language, channel=h.entry)
            await self.book(
                coach, lambda at: j.invite_from_request(self.gw, coach, request["stream_id"], at=at)
            )
            return h.entry
        channels = ("postal_letter", "email") if h.minors else ("postal_letter", "email", "sms")
        await self.book(coach, lambda at: j.send_invitation(self.gw, coach, home, at=at, channels=channels))
        return h.entry

    async def drive(self, index: int, h: DemoHousehold) -> Outcome:
        """One household as far as its fate says; errors are kept for the summary, not raised."""
        coach = coach_of(h.region, index % COACHES_PER_REGION + 1)
        home = j.Household(h.household_id, h.members)
        result = Outcome(h, h.entry)
        try:
            result.entry = await self.first_contact(h, home, coach)
            if h.fate == "invited":
                return result
            case = await j.find_case(self.gw, lead_of(h.region), h.household_id, region=h.region)
            result.case_id = case["case_id"]
            if case["coach_id"] != coach.subject:  # helpline requests open cases without a coach
                await j.assign_coach(self.gw, lead_of(h.region), case["case_id"], coach.subject)
            await j.hold_interview(self.gw, coach, case["case_id"], home, language=h.language)
            await self.decide(h, coach, result)
        except (j.GatewayError, TimeoutError, RuntimeError) as error:
            result.error = str(error)[:300]
        return result

    async def decide(self, h: DemoHousehold, coach: Principal, result: Outcome) -> None:
        assert result.case_id
        case_id, lang = result.case_id, h.language
        if h.fate == "A":
            await j.decide_outcome(
                self.gw, coach, case_id, "legal_stay_possible", language=lang,
                procedure_explained=True, stay_procedure_started=True,
            )  # fmt: skip
        elif h.fate == "C":
            lead = j.team_lead(f"lead-{coach.region}", str(coach.region))
            await j.refuse_return(self.gw, coach, lead, case_id, language=lang)
        elif h.fate.startswith("B"):
            code = PARTNERS[int(h.household_id[-1], 16) % 2]  # Fedasil or IOM, as the coach prefers
            await j.decide_outcome(
                self.gw, coach, case_id, "return_accepted", language=lang,
                consent_to_referral=True, preferred_partner=code,
            )  # fmt: skip
            referral = await j.referral_of_case(self.gw, partner_of(code), case_id)
            result.referral = referral["referral_id"]
            await j.acknowledge(self.gw, partner_of(code), referral["referral_id"])
            if h.fate == "B_departed":
                await j.record_departure(self.gw, partner_of(code), referral["referral_id"])

    async def run(self, households: int, seed: int | None = None, concurrency: int = 6) -> list[Outcome]:
        rng = random.Random(seed)
        batch = [make_household(rng, i, set(self.desk_of_region)) for i in range(households)]
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int, h: DemoHousehold) -> Outcome:
            async with gate:
                return await self.drive(i, h)

        return list(await asyncio.gather(*(one(i, h) for i, h in enumerate(batch))))


async def statuses(gw: j.Gateway, outcomes: list[Outcome]) -> Counter[str]:
    """Current status of every case the batch opened, as the caseload shows it."""
    counts: Counter[str] = Counter()
    for o in outcomes:
        if o.case_id:
            case = await gw.get(lead_of(o.household.region), f"/api/cases/{o.case_id}")
            counts[case["status"]] += 1
    return counts


def summary(outcomes: list[Outcome], by_status: Counter[str], gateway_url: str) -> str:
    """What was seeded and where to look."""
    hs = [o.household for o in outcomes]
    lines = [
        f"Demo         {len(hs)} households ({sum(h.minors > 0 for h in hs)} with minors, "
        f"{sum(h.minors for h in hs)} minors) in {len({h.region for h in hs})} regions",
        "             by region: " + _counts(h.region for h in hs),
        "             by language: " + _counts(h.language for h in hs),
        "             by entry channel: " + _counts(o.entry for o in outcomes),
        f"             cases by status: {_counts(by_status.elements()) or '-'}; "
        f"invited only: {sum(h.fate == 'invited' for h in hs)}",
        f"             referrals: {sum(o.referral is not None for o in outcomes)} "
        f"(departed: {sum(o.referral is not None and o.household.fate == 'B_departed' for o in outcomes)})",
    ]
    errors = [o for o in outcomes if o.error]
    if errors:
        lines.append(f"             {len(errors)} households stopped early, e.g.: {errors[0].error}")
    lines += [
        "Sign in      at the web workspace (its URL is printed last) as any made-up staff member: coaches",
        "             demo-coach-<region>-1..3, team leads demo-lead-<region>, return partners",
        "             demo-partner-fedasil|iom|caritas_international, demo-ops, demo-auditor",
        f"Look         {gateway_url}/docs  (Authorize with a token)",
        "             uv run icam token --role team_lead --region brussels --sub demo-lead-brussels",
        "             uv run icam token --role coach --region liege --sub demo-coach-liege-1",
        "             uv run icam token --role return_partner --organisation fedasil"
        " --sub demo-partner-fedasil",
        "             uv run icam token --role ops_viewer --sub demo-ops   (then GET /api/views/kpis)",
    ]
    return "\n".join(lines)


def _counts(values: Any) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(Counter(values).items()))


async def seed(
    gateway_url: str, tokens: j.TokenSource, env: Mapping[str, str] | None = None, households: int = 40
) -> tuple[list[Outcome], Counter[str]]:
    """Seed one batch against the gateway at `gateway_url`, with the scheduling rules of `env`."""
    env = os.environ if env is None else env
    policy = SlotPolicy.from_env(env, belgian_holidays())
    reference_file = env.get("ICAM_REFERENCE_DATA")
    reference = load_reference_data(Path(reference_file)) if reference_file else load_reference_data()
    gw = j.Gateway(gateway_url, j.cached_tokens(tokens))
    try:
        outcomes = await Seeder(gw, policy, reference).run(households)
        return outcomes, await statuses(gw, outcomes)
    finally:
        await gw.aclose()


def run_demo(gateway_url: str, tokens: j.TokenSource) -> int:
    """`icam up --demo`, once the platform is healthy: seed, print the summary; 1 if all failed."""
    households = int(os.environ.get("ICAM_DEMO_HOUSEHOLDS", "40"))
    print(f"Demo         seeding {households} made-up households through {gateway_url} ...")
    outcomes, by_status = asyncio.run(seed(gateway_url, tokens, households=households))
    print(summary(outcomes, by_status, gateway_url))
    return 1 if all(o.error for o in outcomes) else 0
