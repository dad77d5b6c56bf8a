"""The gateway in front of a real HTTP service on loopback: forwarding, errors, audit."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from icam_auth import Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_gateway.app import create_app
from icam_gateway.config import GatewaySettings
from icam_kernel.access_audit import AuditProof

pytestmark = pytest.mark.integration

COACH = Principal("coach-17", Role.COACH, region="brussels")
AUDITOR = Principal("audit-1", Role.AUDITOR)
OPS = Principal("ops-1", Role.OPS_VIEWER)
LEAD = Principal("lead-1", Role.TEAM_LEAD, region="brussels")
PROOF_SECRET = b"shared by the gateway and the services"
GIVEN, EMAIL = "Xochiquetzal", "xochiquetzal.b@example.org"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fake_case_service() -> FastAPI:
    """Stands in for the case service's HTTP API (a real server on loopback, not a mock object)."""
    app = FastAPI()

    @app.get("/cases/{case_id}")
    async def case(case_id: str, request: Request) -> dict[str, str | None]:
        return {
            "case_id": case_id,
            "request_id": request.headers["x-request-id"],
            "journey": request.headers.get("x-correlation-id"),
            "auth": request.headers["authorization"][:7],
            "purpose": request.headers.get("x-purpose", "").encode("latin-1").decode("utf-8"),
            "audit_proof": request.headers.get("x-audit-proof"),
        }

    @app.get("/health/ready")
    async def ready() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/tasks/overdue-by-coach")
    async def overdue(request: Request) -> dict[str, str | None]:
        return {"audit_proof": request.headers.get("x-audit-proof")}

    @app.get("/caseload")
    async def caseload() -> list[str]:
        await asyncio.sleep(1.0)  # slower than the gateway's read timeout in this test
        return []

    @app.get("/stats/outcomes")
    async def broken() -> dict[str, str]:
        raise RuntimeError("database on fire")

    return app


@pytest.fixture
async def case_service_url() -> AsyncIterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(fake_case_service(), host="127.0.0.1", port=port, log_level="error")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIssuer]:
    issuer = LocalIssuer(tmp_path / "auth")
    monkeypatch.setenv("ICAM_AUTH_ISSUER", issuer.issuer)
    monkeypatch.setenv("ICAM_AUTH_JWKS", str(issuer.write_jwks()))
    from icam_auth.fastapi import _verifier

    _verifier.cache_clear()
    yield issuer
    _verifier.cache_clear()


@pytest.fixture
async def gateway(
    database_url: str, case_service_url: str, issuer: LocalIssuer
) -> AsyncIterator[httpx.AsyncClient]:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = GatewaySettings(
        database_url=database_url,
        audit_proof=AuditProof(PROOF_SECRET),
        read_timeout=0.3,
        connect_timeout=0.5,
        service_urls={
            "case": case_service_url,
            "invitation": closed,
            "referral": closed,
            "notification": closed,
            "privacy": closed,
        },
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            yield client


def bearer(issuer: LocalIssuer, principal: Principal) -> dict[str, str]:
    return {"authorization": f"Bearer {issuer.mint(principal)}"}


async def test_a_coach_reads_a_case_through_the_gateway_and_the_read_is_audited(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await gateway.get(
        "/api/cases/c-42", headers=bearer(issuer, COACH) | {"x-purpose": "interview prep"}
    )
    assert response.status_code == 200
    assert response.json()["case_id"] == "c-42"
    assert response.json()["request_id"] == response.headers["x-request-id"]
    assert response.json()["journey"] is None  # the gateway never invents a household's journey id
    assert response.json()["auth"] == "Bearer "

    log = await gateway.get("/api/audit", params={"door": "gateway"}, headers=bearer(issuer, AUDITOR))
    assert log.status_code == 200
    [entry] = log.json()
    assert (entry["subject"], entry["path"], entry["purpose"]) == (
        "coach-17",
        "/cases/c-42",
        "interview prep",
    )


async def test_the_services_readiness_names_each_upstream_service_ready_or_unavailable(
    gateway: httpx.AsyncClient,
) -> None:
    report = await gateway.get("/health/services")

    assert report.status_code == 200
    assert report.json() == {
        "case": "ready",
        "invitation": "unavailable",
        "referral": "unavailable",
        "notification": "unavailable",
        "privacy": "unavailable",
    }


async def test_no_token_is_401_problem_json(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/api/cases/c-42")
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"].startswith("Bearer")


async def test_a_role_outside_its_remit_gets_403_and_nothing_is_audited(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await gateway.get("/api/cases/c-42", headers=bearer(issuer, OPS))
    assert response.status_code == 403
    assert "ops_viewer" in response.json()["detail"]
    assert (await gateway.get("/api/audit?door=gateway", headers=bearer(issuer, AUDITOR))).json() == []


async def test_the_audit_log_is_for_auditors_only(gateway: httpx.AsyncClient, issuer: LocalIssuer) -> None:
    assert (await gateway.get("/api/audit", headers=bearer(issuer, COACH))).status_code == 403


async def test_a_service_that_is_down_is_a_503_naming_it(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await gateway.post("/api/invitations", json={}, headers=bearer(issuer, COACH))
    assert response.status_code == 503
    assert response.json()["service"] == "invitation"
    assert response.headers["retry-after"]


async def test_a_slow_service_is_a_504(gateway: httpx.AsyncClient, issuer: LocalIssuer) -> None:
    response = await gateway.get("/api/caseload", headers=bearer(issuer, COACH))
    assert response.status_code == 504
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_failing_service_is_a_502_without_its_internals(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await gateway.get("/api/stats/outcomes", headers=bearer(issuer, OPS))
    assert response.status_code == 502
    assert "on fire" not in response.text


async def test_kpis_report_unavailable_services_instead_of_failing(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await gateway.get("/api/views/kpis", headers=bearer(issuer, OPS))
    assert response.status_code == 200
    body = response.json()
    assert {u["service"] for u in body["unavailable"]} == {"invitation", "case", "referral", "notification"}


async def test_the_local_issuers_keys_are_published(gateway: httpx.AsyncClient, issuer: LocalIssuer) -> None:
    response = await gateway.get("/.well-known/jwks.json")
    assert response.json()["keys"][0]["kid"] == issuer.key_id


async def test_a_clients_journey_id_is_passed_on_unchanged(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    journey = "6f1d2c3b-4a59-4e8f-9a0b-1c2d3e4f5a6b"
    headers = bearer(issuer, COACH) | {"x-correlation-id": journey}
    response = await gateway.get("/api/cases/c-42", headers=headers)
    assert response.json()["journey"] == journey


async def test_a_french_purpose_is_passed_on_and_audited_intact(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    purpose = "révision du dossier — préparation de l'entretien"
    headers = bearer(issuer, COACH) | {"x-purpose": purpose.encode()}

    response = await gateway.get("/api/cases/c-43", headers=headers)

    assert response.status_code == 200 and response.json()["purpose"] == purpose
    [entry] = (await gateway.get("/api/audit?door=gateway", headers=bearer(issuer, AUDITOR))).json()
    assert entry["purpose"] == purpose


@pytest.mark.parametrize(
    ("path", "status", "kind"),
    [
        ("/api/cases/%00", 400, "invalid-path"),
        ("/api/cases/a%0Ab", 400, "invalid-path"),
        ("/api/cases/" + "x" * 9000, 414, "uri-too-long"),
        ("/api/no-such-route", 404, "not-found"),
        ("/no-such-page", 404, "not-found"),
    ],
)
async def test_what_a_client_sends_is_never_a_5xx(
    gateway: httpx.AsyncClient, issuer: LocalIssuer, path: str, status: int, kind: str
) -> None:
    response = await gateway.get(path, headers=bearer(issuer, COACH))

    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:icam:problem:{kind}"


async def test_a_body_over_the_limit_is_a_413_problem(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    response = await gateway.post(
        "/api/invitations", content=b"{" + b" " * (2 * 1024 * 1024) + b"}", headers=bearer(issuer, COACH)
    )

    assert response.status_code == 413
    assert response.json()["type"] == "urn:icam:problem:payload-too-large"


async def test_a_journey_id_that_is_not_a_uuid_is_refused(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    headers = bearer(issuer, COACH) | {"x-correlation-id": "j" * 16_000}

    response = await gateway.get("/api/cases/c-42", headers=headers)

    assert response.status_code == 422 and response.json()["field"] == "X-Correlation-Id"


async def test_the_auditor_reads_the_audit_log_and_nothing_else(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    for path in ("/api/views/caseload", "/api/cases/c-42", "/api/views/kpis", "/api/stats/outcomes"):
        response = await gateway.get(path, headers=bearer(issuer, AUDITOR))
        assert response.status_code == 403, path


async def test_a_read_of_personal_data_carries_the_proof_that_the_gateway_audits_it(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    read = await gateway.get("/api/cases/c-44", headers=bearer(issuer, COACH))
    counts = await gateway.get("/api/tasks/overdue-by-coach", headers=bearer(issuer, LEAD))
    forged = await gateway.get(
        "/api/cases/c-45", headers=bearer(issuer, COACH) | {"x-audit-proof": "1.forged"}
    )

    proof, rid = read.json()["audit_proof"], read.headers["x-request-id"]
    assert AuditProof(PROOF_SECRET).verify(proof, rid, "GET", "/cases/c-44")
    assert counts.json()["audit_proof"] is None  # no personal data, nothing audited, no proof
    assert forged.json()["audit_proof"] != "1.forged"  # a client's own proof never reaches a service


async def test_the_merged_audit_log_is_a_503_naming_a_service_whose_direct_reads_it_cannot_read(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    merged = await gateway.get("/api/audit", headers=bearer(issuer, AUDITOR))
    direct = await gateway.get("/api/audit/direct", headers=bearer(issuer, AUDITOR))
    own = await gateway.get("/api/audit", params={"door": "gateway"}, headers=bearer(issuer, AUDITOR))

    for incomplete in (merged, direct):
        assert incomplete.status_code == 503
        assert incomplete.json()["type"] == "urn:icam:problem:audit-incomplete"
        assert incomplete.json()["service"] in {"invitation", "case", "referral", "notification", "privacy"}
    assert own.status_code == 200


async def test_a_refused_filter_or_route_never_repeats_what_the_client_sent(
    gateway: httpx.AsyncClient, issuer: LocalIssuer
) -> None:
    coach = bearer(issuer, COACH)
    answers = [
        await gateway.get("/api/views/caseload", params={"status": GIVEN, "q": EMAIL * 5}, headers=coach),
        await gateway.get(f"/api/people/{GIVEN}/{EMAIL}", headers=coach),
        await gateway.get("/api/cases/c-46", headers=coach | {"x-correlation-id": EMAIL}),
    ]

    assert [a.status_code for a in answers] == [422, 404, 422]
    assert [e["field"] for e in answers[0].json()["errors"]] == ["query.status", "query.q"]
    for answer in answers:
        assert GIVEN not in answer.text and EMAIL not in answer.text, answer.text
