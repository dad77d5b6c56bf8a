"""HTTP helpers: the kernel's errors become RFC 9457 problems; health and metrics answer."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import asyncpg
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import AfterValidator, BaseModel, Field

from icam_kernel.errors import Conflict, NotFound, StaleReadModel
from icam_kernel.http import health_router, install_problem_handlers, problem
from icam_kernel.inputs import Email
from icam_kernel.store import WrongExpectedVersion

pytestmark = pytest.mark.unit


class Interview(BaseModel):
    case_id: str
    held_on: str


def app_raising(error: Exception) -> TestClient:
    app = FastAPI()
    install_problem_handlers(app)

    async def fine() -> bool:
        return True

    app.include_router(health_router({"database": fine}))

    @app.post("/interviews")
    async def record(interview: Interview) -> None:
        raise error

    return TestClient(app)


def test_a_concurrent_change_is_a_409_problem_with_the_current_version() -> None:
    response = app_raising(WrongExpectedVersion("case-1", 3, 5)).post(
        "/interviews", json={"case_id": "c", "held_on": "d"}
    )
    assert response.status_code == 409
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["current_version"] == 5


def test_an_invalid_request_is_a_422_naming_the_fields() -> None:
    response = app_raising(NotFound("case", "c")).post("/interviews", json={"case_id": "c"})
    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == ["held_on"]


def test_business_refusals_not_found_and_stale_reads_have_their_statuses() -> None:
    body = {"case_id": "c", "held_on": "d"}
    assert app_raising(NotFound("case", "c")).post("/interviews", json=body).status_code == 404
    assert (
        app_raising(Conflict("case closed", case_id="c")).post("/interviews", json=body).json()["case_id"]
        == "c"
    )
    stale = app_raising(StaleReadModel("cases", 10, 8)).post("/interviews", json=body)
    assert (stale.status_code, stale.headers["retry-after"]) == (503, "1")


def test_health_and_metrics_answer() -> None:
    client = app_raising(RuntimeError())
    assert client.get("/health/live").json() == {"status": "ok"}
    assert client.get("/health/ready").json()["checks"] == {"database": True}
    assert "icam_event_append_seconds" in client.get("/metrics").text


def test_rule_details_named_like_standard_members_are_kept_under_a_prefix() -> None:
    refusal = Conflict("case closed", status="closed", type="household", instance="/cases/c", kind="x")
    body = app_raising(refusal).post("/interviews", json={"case_id": "c", "held_on": "d"}).json()

    assert (body["status"], body["type"], body["detail"]) == (409, "urn:icam:problem:conflict", "case closed")
    assert (body["ext_status"], body["ext_type"], body["ext_instance"]) == ("closed", "household", "/cases/c")
    assert body["kind"] == "x"


def test_problem_prefixes_reserved_keyword_extensions_without_losing_an_existing_one() -> None:
    response = problem(
        400, "Bad", "bad input", kind="bad", title="mine", extensions={"detail": "a", "ext_detail": "b"}
    )

    body = json.loads(bytes(response.body))
    assert (body["title"], body["ext_title"]) == ("Bad", "mine")
    assert (body["detail"], body["ext_detail"], body["ext_ext_detail"]) == ("bad input", "b", "a")


def test_authorisation_refusals_and_unknown_routes_are_problems_too() -> None:
    from fastapi import HTTPException

    client = app_raising(HTTPException(403, "a partner sees its own referrals only"))
    refused = client.post("/interviews", json={"case_id": "c-1", "held_on": "2026-03-04"})
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["detail"] == "a partner sees its own referrals only"
    missing = client.get("/no-such-route")
    assert (missing.status_code, missing.headers["content-type"]) == (404, "application/problem+json")


def test_a_database_outage_met_by_a_request_is_a_503_to_retry_and_other_failures_a_bare_500() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/cases")
    async def during_a_restart() -> None:
        raise asyncpg.AdminShutdownError("terminating connection due to administrator command")

    @app.get("/cases/duplicate")
    async def a_bug() -> None:
        raise asyncpg.UniqueViolationError("Key (email)=(amina@example.org) already exists")

    client = TestClient(app)
    outage, bug = client.get("/cases"), client.get("/cases/duplicate")

    assert outage.status_code == 503 and outage.headers["retry-after"]
    assert outage.json()["type"] == "urn:icam:problem:database-unavailable"
    assert bug.status_code == 500 and bug.json()["type"] == "urn:icam:problem:internal-error"
    assert "amina" not in bug.text


def test_liveness_fails_while_something_is_in_a_crash_loop() -> None:
    broken: list[str] = []
    app = FastAPI()
    app.include_router(health_router({}, broken=lambda: broken))
    client = TestClient(app)

    assert client.get("/health/live").status_code == 200
    broken.append("outbox-relay")
    live = client.get("/health/live")
    assert live.status_code == 503 and live.json() == {"status": "crash-loop", "workers": ["outbox-relay"]}


GIVEN, FAMILY, EMAIL = "Xochiquetzal", "Brzęczyszczykiewicz", "xochiquetzal.b@example.org"
NOT_A_YEAR = "invalid character in year"


def _known_name(value: str) -> str:
    raise ValueError(f"{value!r} is not a name we know")


class Person(BaseModel):
    given_name: Annotated[str, AfterValidator(_known_name)]
    family_name: Annotated[str, Field(max_length=5)]
    birth_date: date
    contact: dict[str, Email]


def test_a_validation_problem_names_each_field_and_rule_but_never_the_value_sent() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/people")
    async def register(person: Person) -> None: ...

    sent = {
        "given_name": GIVEN,
        "family_name": FAMILY,
        "birth_date": FAMILY,
        "contact": {"email": EMAIL[:-4]},
    }
    response = TestClient(app).post("/people", json=sent)

    assert response.status_code == 422
    assert [s for s in (GIVEN, FAMILY, EMAIL[:-4]) if s in response.text] == []
    assert response.json()["errors"] == [
        {"field": "given_name", "message": "Value error, '[redacted]' is not a name we know"},
        {"field": "family_name", "message": "String should have at most 5 characters"},
        {"field": "birth_date", "message": f"Input should be a valid date or datetime, {NOT_A_YEAR}"},
        {"field": "contact.email", "message": "Value error, is not a valid e-mail address"},
    ]
    assert "input" not in json.dumps(response.json()["errors"])


def test_a_failure_is_a_500_problem_without_the_exceptions_text() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/letters")
    async def letters() -> None:
        raise RuntimeError(f"no letter for {GIVEN} at {EMAIL}")

    response = TestClient(app, raise_server_exceptions=False).get("/letters", headers={"x-request-id": "r-1"})

    assert (response.status_code, response.headers["content-type"]) == (500, "application/problem+json")
    assert response.json()["type"] == "urn:icam:problem:internal-error"
    assert response.json()["request_id"] == "r-1"
    assert GIVEN not in response.text and EMAIL not in response.text
