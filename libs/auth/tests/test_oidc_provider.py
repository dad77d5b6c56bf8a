"""The local OpenID provider: code + PKCE (S256) only, one-time codes, tokens the services accept."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest

from icam_auth import AuthSettings, Role, TokenVerifier, pkce
from icam_auth.oidc_provider import ProviderSettings, create_app

pytestmark = pytest.mark.unit
WEB = "http://127.0.0.1:8105/auth/callback"


def test_the_s256_challenge_is_the_rfc_7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"  # RFC 7636, appendix B
    assert pkce.challenge_of(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    assert pkce.verifies(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not pkce.verifies(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", method="plain")
    assert not pkce.verifies("short", pkce.challenge_of("short"))
    assert len(pkce.new_verifier()) >= 43


def _client(tmp_path: Path) -> httpx.AsyncClient:
    settings = ProviderSettings("http://idp.test", {"icam-web": (WEB,)}, tmp_path / "auth", token_ttl=600)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=create_app(settings)), base_url="http://idp.test"
    )


def _request(verifier: str, **extra: str) -> dict[str, str]:
    return {
        "response_type": "code",
        "client_id": "icam-web",
        "redirect_uri": WEB,
        "scope": "openid profile",
        "state": "s1",
        "nonce": "n1",
        "code_challenge": pkce.challenge_of(verifier),
        "code_challenge_method": "S256",
        **extra,
    }


async def _code(idp: httpx.AsyncClient, verifier: str, subject: str) -> str:
    page = await idp.get("/authorize", params=_request(verifier))
    assert page.status_code == 200 and f'value="{subject}"' in page.text
    hidden = {
        k: unescape(v) for k, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    answer = await idp.post("/authorize", data={**hidden, "subject": subject})
    assert answer.status_code == 303
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    assert query["state"] == ["s1"]
    return query["code"][0]


async def test_a_code_with_its_verifier_gives_tokens_that_the_services_accept(tmp_path: Path) -> None:
    verifier = pkce.new_verifier()
    async with _client(tmp_path) as idp:
        code = await _code(idp, verifier, "demo-coach-liege-1")
        token = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": WEB,
            "client_id": "icam-web",
        }
        answer = await idp.post("/token", data=token | {"code_verifier": verifier})
        replay = await idp.post("/token", data=token | {"code_verifier": verifier})
        keys = (await idp.get("/jwks.json")).json()
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert replay.status_code == 400 and replay.json() == {"error": "invalid_grant"}  # a code works once
    (tmp_path / "jwks.json").write_text(__import__("json").dumps(keys))
    principal = TokenVerifier(AuthSettings("icam-local", "icam", str(tmp_path / "jwks.json"))).verify(
        answer.json()["access_token"]
    )
    assert (principal.subject, principal.role, principal.region) == (
        "demo-coach-liege-1",
        Role.COACH,
        "liege",
    )
    claims = jwt.decode(answer.json()["id_token"], options={"verify_signature": False})
    assert claims["aud"] == "icam-web" and claims["iss"] == "http://idp.test" and claims["nonce"] == "n1"


async def test_a_wrong_verifier_an_unknown_redirect_or_no_pkce_is_refused(tmp_path: Path) -> None:
    verifier = pkce.new_verifier()
    async with _client(tmp_path) as idp:
        code = await _code(idp, verifier, "demo-ops")
        wrong = await idp.post(
            "/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": WEB,
                "client_id": "icam-web",
                "code_verifier": pkce.new_verifier(),
            },
        )
        elsewhere = await idp.get(
            "/authorize", params=_request(verifier, redirect_uri="https://evil.example/cb")
        )
        plain = await idp.get("/authorize", params=_request(verifier, code_challenge_method="plain"))
        discovery = (await idp.get("/.well-known/openid-configuration")).json()
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    assert elsewhere.status_code == 400 and "redirect URI" in elsewhere.text
    assert plain.status_code == 400 and "S256" in plain.text
    assert discovery["code_challenge_methods_supported"] == ["S256"]
