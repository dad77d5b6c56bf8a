"""Every read of personal data is audited, whichever door it came through (ADR 0015).

A service called directly with a valid token audits the read itself, before the answer leaves;
a read the gateway proves it audited (`X-Audit-Proof`) is not audited twice; the auditor lists the
service's rows at `GET /audit/direct`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request

from icam_auth import AuthSettings, Forbidden, Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_auth.policy import Route
from icam_auth.verify import DEFAULT_AUDIENCE
from icam_kernel.access_audit import PROOF_HEADER, SECRET_VARIABLE, AuditProof
from icam_kernel.routing import PolicyRouter, allow
from icam_kernel.service import ServiceRuntime, ServiceSettings, create_service_app
from icam_kernel.store import EventStore

SECRET = "a secret the gateway and the services share"
COACH = Principal("coach-direct", Role.COACH, region="brussels")
AUDITOR = Principal("auditor-1", Role.AUDITOR)


def case_router() -> PolicyRouter:
    """The case service's read of a case (a row of personal data), answering a made-up person."""
    router = PolicyRouter("case")

    @router.get("/cases/{case_id}")
    async def read_case(case_id: str) -> dict[str, str]:
        return {"case_id": case_id, "given_name": "Xochiquetzal"}

    @router.get("/caseload")
    async def caseload() -> list[dict[str, str]]:
        return [{"case_id": "c-1", "given_name": "Xochiquetzal"}]

    return router


class Service:
    """The case service as a test reaches it directly, with tokens of the local issuer."""

    def __init__(self, client: TestClient, issuer: LocalIssuer) -> None:
        self.client, self.issuer = client, issuer

    def get(self, who: Principal, path: str, **headers: str | bytes) -> httpx.Response:
        auth: dict[str, str | bytes] = {"authorization": f"Bearer {self.issuer.mint(who)}"}
        return self.client.get(path, headers=auth | headers)

    def direct_reads(self, **params: str) -> list[dict[str, object]]:
        response = self.client.get(
            "/audit/direct", params=params, headers={"authorization": f"Bearer {self.issuer.mint(AUDITOR)}"}
        )
        assert response.status_code == 200, response.text
        return list(response.json())


@pytest.fixture
def service(
    database_url: str, kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Service]:
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    issuer = LocalIssuer(tmp_path / "auth")
    auth = AuthSettings(issuer.issuer, DEFAULT_AUDIENCE, str(issuer.write_jwks()))
    settings = ServiceSettings("case", database_url, kafka_bootstrap, pool_size=4)
    runtime = ServiceRuntime("case", settings, migrations_dir=None, store=EventStore("direct.case.events"))
    with TestClient(create_service_app(runtime, [case_router()], auth=auth)) as client:
        yield Service(client, issuer)


@pytest.mark.integration
def test_a_direct_read_of_personal_data_is_audited_by_the_service_and_listed_for_the_auditor(
    service: Service,
) -> None:
    response = service.get(
        COACH, "/cases/c-1?min_position=3", **{"x-purpose": "préparer l'entretien".encode()}
    )

    assert response.status_code == 200
    [row] = service.direct_reads(subject="coach-direct")
    assert (row["subject"], row["role"], row["region"]) == ("coach-direct", "coach", "brussels")
    assert (row["method"], row["path"], row["query"], row["status"]) == (
        "GET",
        "/cases/c-1",
        "min_position=3",
        200,
    )
    assert row["purpose"] == "préparer l'entretien"


@pytest.mark.integration
def test_a_direct_name_search_is_audited_without_the_name_nor_a_purpose_naming_a_contact(
    service: Service,
) -> None:
    response = service.get(
        COACH, "/caseload?q=Xochiquetzal&status=open", **{"x-purpose": "call +32 470 12 34 56"}
    )

    assert response.status_code == 200
    [row] = service.direct_reads(path_contains="/caseload")
    assert row["query"] == "q=[redacted]&status=open"
    assert row["purpose"] == "call [phone]"
    assert "Xochiquetzal" not in str(row) and "470" not in str(row)


@pytest.mark.integration
def test_a_read_the_gateway_proves_it_audited_is_not_audited_again(service: Service) -> None:
    request_id = str(uuid.uuid4())
    proof = AuditProof(SECRET.encode()).sign(request_id, "GET", "/cases/c-2")
    assert proof is not None

    response = service.get(COACH, "/cases/c-2", **{"x-request-id": request_id, PROOF_HEADER: proof})

    assert response.status_code == 200
    assert service.direct_reads() == []


@pytest.mark.integration
def test_a_proof_for_another_read_another_secret_or_long_ago_does_not_spare_the_audit(
    service: Service,
) -> None:
    request_id = str(uuid.uuid4())
    ours, theirs = AuditProof(SECRET.encode()), AuditProof(b"someone else's secret")
    proofs = {
        "another path": ours.sign(request_id, "GET", "/cases/c-other"),
        "another secret": theirs.sign(request_id, "GET", "/cases/c-3"),
        "ten minutes ago": ours.sign(request_id, "GET", "/cases/c-3", issued=time.time() - 600),
        "not a proof": "proof",
    }

    for proof in proofs.values():
        assert proof is not None
        service.get(COACH, "/cases/c-3", **{"x-request-id": request_id, PROOF_HEADER: proof})

    assert len(service.direct_reads(path_contains="/cases/c-3")) == len(proofs)


@pytest.mark.integration
def test_a_read_that_cannot_be_audited_is_not_served(service: Service) -> None:
    async def drop_the_audit_table() -> None:
        await service.client.app.state.runtime.pool.execute("drop table access_audit")

    assert service.client.portal is not None
    service.client.portal.call(drop_the_audit_table)

    response = service.get(COACH, "/cases/c-4")

    assert response.status_code == 503
    assert response.json()["type"] == "urn:icam:problem:audit-unavailable"
    assert "Xochiquetzal" not in response.text


@pytest.mark.integration
def test_roles_that_see_no_personal_data_are_refused_its_reads_and_the_auditor_reads_the_audit(
    service: Service,
) -> None:
    for who in (Principal("icam-batch", Role.SYSTEM), AUDITOR, Principal("ops-1", Role.OPS_VIEWER)):
        assert service.get(who, "/cases/c-5").status_code == 403, who.role
    assert service.get(COACH, "/audit/direct").status_code == 403
    assert service.direct_reads() == []


@pytest.mark.unit
async def test_a_row_of_personal_data_refuses_the_system_token_even_if_the_row_names_it() -> None:
    careless = Route("GET", "/cases/{case_id}", "case", frozenset({Role.SYSTEM}), True, "read a case")
    check = allow(careless)
    request = Request({"type": "http", "method": "GET", "path": "/cases/c", "headers": []})

    with pytest.raises(Forbidden):
        await check(request, Principal("icam-batch", Role.SYSTEM))


@pytest.mark.unit
def test_a_proof_holds_for_one_request_method_and_path_under_one_secret_for_two_minutes() -> None:
    proof = AuditProof(b"s3cret")
    signed = proof.sign("rid-1", "GET", "/cases/c")

    assert proof.verify(signed, "rid-1", "GET", "/cases/c")
    assert not proof.verify(signed, "rid-2", "GET", "/cases/c")
    assert not proof.verify(signed, "rid-1", "POST", "/cases/c")
    assert not proof.verify(
        proof.sign("rid-1", "GET", "/cases/c", issued=time.time() - 121), "rid-1", "GET", "/cases/c"
    )
    assert AuditProof(None).sign("rid-1", "GET", "/cases/c") is None
    assert not AuditProof(None).verify(signed, "rid-1", "GET", "/cases/c")
