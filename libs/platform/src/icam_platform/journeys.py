"""Drive households through the ICAM trajectory via the gateway, as coach UIs and partners would.

One vocabulary for the end-to-end tests, `icam up --demo` and the platform load benchmark: each
step is one gateway call (or a wait for the platform to react), named as the coach would say it.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx

from icam_auth import Principal, Role

T = TypeVar("T")
TokenSource = Callable[[Principal], str]


class GatewayError(Exception):
    """The gateway answered with a problem; carries the status and the problem body."""

    def __init__(self, method: str, path: str, status: int, problem: Any) -> None:
        super().__init__(f"{method} {path} -> {status}: {problem}")
        self.status = status
        self.problem = problem


@dataclass
class Gateway:
    """A thin client of the gateway that authenticates as whichever principal a step needs."""

    base_url: str
    tokens: TokenSource
    # idle connections kept shorter than uvicorn's 5 s keep-alive, so none is reused as it closes
    client: httpx.AsyncClient = field(
        default_factory=lambda: httpx.AsyncClient(timeout=30, limits=httpx.Limits(keepalive_expiry=4.0))
    )

    async def call(
        self,
        principal: Principal,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        purpose: str | None = None,
    ) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.tokens(principal)}"}
        if purpose:
            headers["x-purpose"] = purpose
        return await self.client.request(
            method, self.base_url + path, json=json, params=params, headers=headers
        )

    async def post(self, principal: Principal, path: str, body: Any) -> Any:
        response = await self.call(principal, "POST", path, json=body)
        return _body_or_raise("POST", path, response)

    async def get(self, principal: Principal, path: str, **params: Any) -> Any:
        response = await self.call(
            principal, "GET", path, params={k: v for k, v in params.items() if v is not None}
        )
        return _body_or_raise("GET", path, response)

    async def aclose(self) -> None:
        await self.client.aclose()


def _body_or_raise(method: str, path: str, response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = response.text
        raise GatewayError(method, path, response.status_code, problem)
    if response.headers.get("content-type", "").startswith("application/json"):
        return response.json()
    return response.content


async def eventually(
    probe: Callable[[], Awaitable[T | None]],
    *,
    timeout: float = 30.0,
    interval: float = 0.1,
    what: str = "condition",
) -> T:
    """Poll until `probe` returns something truthy (the platform reacts asynchronously)."""
    deadline = asyncio.get_running_loop().time() + timeout
    last_error: Exception | None = None
    while asyncio.get_running_loop().time() < deadline:
        try:
            result = await probe()
            if result:
                return result
        except GatewayError as error:
            last_error = error
        await asyncio.sleep(interval)
    raise TimeoutError(f"{what} not reached within {timeout:.0f}s (last error: {last_error})")


def coach(subject: str, region: str = "brussels") -> Principal:
    return Principal(subject, Role.COACH, region=region)


def team_lead(subject: str, region: str = "brussels") -> Principal:
    return Principal(subject, Role.TEAM_LEAD, region=region)


def partner(subject: str, organisation: str) -> Principal:
    return Principal(subject, Role.RETURN_PARTNER, organisation=organisation)


@dataclass(frozen=True)
class Household:
    """A household as the coach first registers it: members with a dossier reference each."""

    household_id: str
    members: list[dict[str, Any]]

    @property
    def adult_id(self) -> str:
        return str(self.members[0]["person_id"])


def household(
    *,
    language: str = "fr",
    postal_code: str = "1000",
    municipality: str = "Bruxelles",
    email: str | None = None,
    minors: int = 0,
    name: str = "Example",
) -> Household:
    """A made-up household (no real person): one adult with contact details, optional minors."""
    tag = uuid.uuid4().hex[:8]
    adult = {
        "role": "adult",
        "person_id": f"OE{tag}",
        "given_name": "Sam",
        "family_name": name,
        "preferred_language": language,
        "contact": {
            "postal_address": {
                "street": "Rue de la Loi",
                "house_number": "16",
                "postal_code": postal_code,
                "municipality": municipality,
            },
            "email": email or f"person-{tag}@example.org",
            "phone": "+32470000000",
        },
    }
    children = [
        {"role": "minor", "person_id": f"OE{tag}{i}", "given_name": f"Child{i}", "family_name": name}
        for i in range(minors)
    ]
    return Household(str(uuid.uuid4()), [adult, *children])


def soon(seconds: float = 5.0) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


def just_now() -> str:
    return datetime.now(UTC).isoformat()


async def send_invitation(
    gw: Gateway,
    by: Principal,
    home: Household,
    *,
    at: str,
    channels: tuple[str, ...] = ("email",),
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "household_id": home.household_id,
        "members": home.members,
        "appointment_at": at,
        "channels": list(channels),
        "coach_id": by.subject,
        **extra,
    }
    result: dict[str, Any] = await gw.post(by, "/api/invitations", body)
    return result


async def open_case_of(
    gw: Gateway, by: Principal, home: Household, *, timeout: float = 30.0
) -> dict[str, Any]:
    """The household's case once the case service has opened it (from the invitation's event)."""

    async def probe() -> dict[str, Any] | None:
        page = await gw.get(by, "/api/caseload", region=by.region, q=home.adult_id, limit=200)
        return next((item for item in page["items"] if item["household_id"] == home.household_id), None)

    return await eventually(probe, timeout=timeout, what=f"case of household {home.household_id}")


async def hold_interview(
    gw: Gateway,
    by: Principal,
    case_id: str,
    home: Household,
    *,
    kind: str = "intake",
    language: str = "fr",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "occurred_at": just_now(),
        "kind": kind,
        "language": language,
        "attendees": [home.adult_id],
        "interpreter_present": False,
        **extra,
    }
    result: dict[str, Any] = await gw.post(by, f"/api/cases/{case_id}/interviews", body)
    return result


async def decide_outcome(
    gw: Gateway, by: Principal, case_id: str, outcome: str, *, language: str = "fr", **extra: Any
) -> dict[str, Any]:
    body = {
        "outcome": outcome,
        "rationale": "file reviewed over the interviews; see interview notes",
        "communicated": "outcome and next steps explained in plain words",
        "communicated_in": language,
        **extra,
    }
    result: dict[str, Any] = await gw.post(by, f"/api/cases/{case_id}/outcome", body)
    return result


async def approve_outcome(gw: Gateway, lead: Principal, case_id: str, decision_id: str) -> dict[str, Any]:
    """A team lead (not the proposer) approves a proposed outcome: it takes effect (four eyes)."""
    path = f"/api/cases/{case_id}/outcome/{decision_id}/approve"
    result: dict[str, Any] = await gw.post(lead, path, {})
    return result


async def refuse_return(
    gw: Gateway, by: Principal, lead: Principal, case_id: str, *, language: str = "fr"
) -> dict[str, Any]:
    """Outcome C: the coach proposes it with the consequences explained; the team lead approves."""
    proposed = await decide_outcome(
        gw, by, case_id, "return_refused", language=language, consequences_explained=True
    )
    return await approve_outcome(gw, lead, case_id, str(proposed["id"]))


async def case_status(gw: Gateway, by: Principal, case_id: str) -> str:
    case = await gw.get(by, f"/api/cases/{case_id}")
    return str(case["status"])


async def wait_for_status(
    gw: Gateway, by: Principal, case_id: str, status: str, timeout: float = 30.0
) -> str:
    async def probe() -> str | None:
        current = await case_status(gw, by, case_id)
        return current if current == status else None

    return await eventually(probe, timeout=timeout, what=f"case {case_id} status {status}")


async def register_walk_in(
    gw: Gateway, by: Principal, home: Household, desk: str, **extra: Any
) -> dict[str, Any]:
    """A household at a walk-in desk, seen on the spot by the receiving coach."""
    body = {
        "household_id": home.household_id,
        "members": home.members,
        "outcome": "interview_on_the_spot",
        "coach_id": by.subject,
        **extra,
    }
    result: dict[str, Any] = await gw.post(by, f"/api/desks/{desk}/visits", body)
    return result


async def invitation(gw: Gateway, by: Principal, invitation_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await gw.get(by, f"/api/invitations/{invitation_id}")
    return result


async def wait_for_no_show(
    gw: Gateway, by: Principal, invitation_id: str, timeout: float = 60.0
) -> dict[str, Any]:
    """The invitation once the durable timer recorded that nobody came."""

    async def probe() -> dict[str, Any] | None:
        current = await invitation(gw, by, invitation_id)
        return current if current.get("status") == "no_show" else None

    return await eventually(probe, timeout=timeout, what=f"no-show of invitation {invitation_id}")


async def referral_in_inbox(
    gw: Gateway, by: Principal, case_id: str, timeout: float = 30.0
) -> dict[str, Any]:
    """The referral of `case_id` once it reached the partner's inbox."""

    async def probe() -> dict[str, Any] | None:
        inbox = await gw.get(by, "/api/views/partner-inbox")
        return next((item for item in inbox["items"] if item["case_id"] == case_id), None)

    return await eventually(
        probe, timeout=timeout, what=f"referral of case {case_id} in {by.organisation}'s inbox"
    )


async def acknowledge(gw: Gateway, by: Principal, referral_id: str) -> dict[str, Any]:
    result: dict[str, Any] = await gw.post(
        by,
        f"/api/referrals/{referral_id}/acknowledge",
        {"partner_reference": f"{by.organisation}-{referral_id[:8]}"},
    )
    return result


async def record_departure(
    gw: Gateway, by: Principal, referral_id: str, *, country: str = "MA", reintegration_support: bool = True
) -> dict[str, Any]:
    body = {
        "departed_on": datetime.now(UTC).date().isoformat(),
        "destination_country": country,
        "reintegration_support": reintegration_support,
    }
    result: dict[str, Any] = await gw.post(by, f"/api/referrals/{referral_id}/departure", body)
    return result


# --- steps for `icam up --demo` and the platform load benchmark (bench/platform) ---


def cached_tokens(mint: TokenSource) -> TokenSource:
    """Mint each principal's token once: RS256 signing per call would dominate a load test."""
    minted: dict[Principal, str] = {}

    def token(principal: Principal) -> str:
        if principal not in minted:
            minted[principal] = mint(principal)
        return minted[principal]

    return token


async def find_case(
    gw: Gateway, by: Principal, household_id: str, *, timeout: float = 30.0, **filters: Any
) -> dict[str, Any]:
    """The household's case in the caseload, paging through it (`filters`: coach, status, region).

    Unlike `open_case_of` this finds the case however long the caseload is; filter by coach to keep
    each poll to one small page."""

    async def probe() -> dict[str, Any] | None:
        offset = 0
        while True:
            page = await gw.get(by, "/api/caseload", limit=200, offset=offset, **filters)
            found = next((i for i in page["items"] if i["household_id"] == household_id), None)
            if found or offset + len(page["items"]) >= page["total"] or not page["items"]:
                return found
            offset += len(page["items"])

    return await eventually(probe, timeout=timeout, interval=0.05, what=f"case of household {household_id}")


async def request_appointment(
    gw: Gateway, by: Principal, home: Household, *, language: str, channel: str = "helpline_phone"
) -> dict[str, Any]:
    """A helpline request (e-mail or phone) for an appointment, recorded by a coach."""
    body = {
        "household_id": home.household_id,
        "entry_channel": channel,
        "language": language,
        "members": home.members,
        "subject": "asks for an appointment to talk about their situation",
    }
    result: dict[str, Any] = await gw.post(by, "/api/appointment-requests", body)
    return result


async def invite_from_request(
    gw: Gateway, by: Principal, request_id: str, *, at: str, channels: tuple[str, ...] = ("email",)
) -> dict[str, Any]:
    """Answer a helpline request with an invitation (the request is closed in the same step)."""
    body = {"appointment_at": at, "channels": list(channels), "coach_id": by.subject}
    result: dict[str, Any] = await gw.post(by, f"/api/appointment-requests/{request_id}/invite", body)
    return result


async def assign_coach(gw: Gateway, lead: Principal, case_id: str, coach_id: str) -> dict[str, Any]:
    """The region's team lead assigns a coach (cases opened from a helpline request have none)."""
    result: dict[str, Any] = await gw.post(lead, f"/api/cases/{case_id}/assign", {"coach_id": coach_id})
    return result


async def referral_of_case(
    gw: Gateway, by: Principal, case_id: str, *, timeout: float = 30.0, interval: float = 0.1
) -> dict[str, Any]:
    """The referral of `case_id` in the partner's inbox, reading up to 200 open referrals per poll."""
    path = f"/api/partners/{by.organisation}/inbox"

    async def probe() -> dict[str, Any] | None:
        inbox = await gw.get(by, path, limit=200)
        return next((item for item in inbox["items"] if item["case_id"] == case_id), None)

    return await eventually(probe, timeout=timeout, interval=interval, what=f"referral of case {case_id}")


def fast_platform_settings(reference_file: Any) -> dict[str, str]:
    """The end-to-end tests' fast settings (tests/e2e/conftest.py): interviews any day and hour, no
    notice period, 3-second slots, 1-second no-show grace; `reference_file` opens the desks all day."""
    return {
        "ICAM_REFERENCE_DATA": str(reference_file),
        "INVITATION_NOTICE_POSTAL_DAYS": "0",
        "INVITATION_NOTICE_ELECTRONIC_DAYS": "0",
        "INVITATION_WORKING_DAYS": "0,1,2,3,4,5,6",
        "INVITATION_WORKING_HOURS": "00:00-23:59:59",
        "INVITATION_SLOT_MINUTES": "0.05",
        "INVITATION_NO_SHOW_GRACE_SECONDS": "1",
        "INVITATION_REMINDER_DAYS_BEFORE": "0",
        "PRIVACY_SUBSCRIBER_GRANTS": "org:e2e-registry",
    }


def desks_open_today(path: Any) -> Any:
    """Write a reference-data override opening every walk-in desk today (Brussels), all day, as the
    end-to-end tests do; returns `path` (for `ICAM_REFERENCE_DATA`)."""
    import json
    from zoneinfo import ZoneInfo

    from icam_contracts.reference import DEFAULT_REFERENCE_DATA

    today = datetime.now(ZoneInfo("Europe/Brussels")).weekday()
    desks = DEFAULT_REFERENCE_DATA.model_dump(mode="json")["desks"]
    for desk in desks:
        desk.update(weekday=today, opens="00:00:00", closes="23:59:59")
    path.write_text(json.dumps({"desks": desks}))
    return path
