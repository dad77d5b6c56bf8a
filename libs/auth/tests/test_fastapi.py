"""Each app verifies tokens with its own keys; without one it falls back to the environment's."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from icam_auth import AuthSettings, Principal, Role
from icam_auth.fastapi import CurrentPrincipal, _verifier, install_verifier, roles
from icam_auth.issuer import LocalIssuer

pytestmark = pytest.mark.unit

COACH = Principal("coach-17", Role.COACH, region="brussels")


def settings_of(issuer: LocalIssuer) -> AuthSettings:
    return AuthSettings(issuer.issuer, issuer.audience, str(issuer.write_jwks()))


def app_with_routes() -> FastAPI:
    app = FastAPI()

    @app.get("/me")
    def me(principal: CurrentPrincipal) -> str:
        return principal.subject

    @app.get("/stats")
    def stats(principal: Annotated[Principal, Depends(roles(Role.OPS_VIEWER))]) -> str:
        return principal.subject

    return app


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def env_issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalIssuer]:
    issuer = LocalIssuer(tmp_path / "env")
    monkeypatch.setenv("ICAM_AUTH_ISSUER", issuer.issuer)
    monkeypatch.setenv("ICAM_AUTH_JWKS", str(issuer.write_jwks()))
    _verifier.cache_clear()
    yield issuer
    _verifier.cache_clear()


def test_two_apps_in_one_process_trust_their_own_issuers(tmp_path: Path) -> None:
    first, second = LocalIssuer(tmp_path / "first"), LocalIssuer(tmp_path / "second")
    apps = app_with_routes(), app_with_routes()
    install_verifier(apps[0], settings_of(first))
    install_verifier(apps[1], settings_of(second))
    clients = [TestClient(app) for app in apps]

    assert clients[0].get("/me", headers=bearer(first.mint(COACH))).json() == "coach-17"
    assert clients[1].get("/me", headers=bearer(second.mint(COACH))).json() == "coach-17"
    assert clients[0].get("/me", headers=bearer(second.mint(COACH))).status_code == 401
    assert clients[1].get("/stats", headers=bearer(second.mint(COACH))).status_code == 403


def test_an_app_without_its_own_verifier_uses_the_environments(env_issuer: LocalIssuer) -> None:
    client = TestClient(app_with_routes())

    assert client.get("/me", headers=bearer(env_issuer.mint(COACH))).json() == "coach-17"
    assert client.get("/me").status_code == 401


def test_installing_from_the_environment_reads_the_keys_at_once(env_issuer: LocalIssuer) -> None:
    app = app_with_routes()
    verifier = install_verifier(app)

    assert app.state.token_verifier is verifier
    assert verifier.verify(env_issuer.mint(COACH)) == COACH
