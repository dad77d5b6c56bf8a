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
    client: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30))

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
        page = await gw.get(by, "/api/caseload", region=by.region, limit=200)
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
