"""The web as an OpenID Connect client: authorisation code flow with PKCE (S256) against the issuer.

Discovery is read once (`/.well-known/openid-configuration`); the ID token is checked against the
issuer's JWKS (signature, issuer, audience = our client id, expiry, nonce). The access token goes to
the gateway unread: it is the gateway's and the services' to check.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt
from starlette.concurrency import run_in_threadpool

from icam_auth import pkce
from icam_web.config import WebSettings


class SignInFailed(Exception):
    """The provider refused the code, or its ID token does not check out (the reason is not personal)."""


@dataclass(frozen=True)
class Attempt:
    """What the browser is sent off with, and what we keep until it comes back."""

    state: str
    nonce: str
    verifier: str

    @classmethod
    def new(cls) -> Attempt:
        return cls(secrets.token_urlsafe(24), secrets.token_urlsafe(24), pkce.new_verifier())


@dataclass(frozen=True)
class Tokens:
    access_token: str
    expires_in: int
    claims: dict[str, Any]


class OidcClient:
    def __init__(self, settings: WebSettings, http: httpx.AsyncClient) -> None:
        self.settings = settings
        self.http = http
        self._discovery: dict[str, Any] | None = None
        self._keys: jwt.PyJWKClient | None = None

    async def discovery(self) -> dict[str, Any]:
        if self._discovery is None:
            answer = await self.http.get(self.settings.oidc_discovery_url)
            answer.raise_for_status()
            self._discovery = answer.json()
            self._keys = jwt.PyJWKClient(self._discovery["jwks_uri"], cache_keys=True, lifespan=300)
        return self._discovery

    async def authorize_url(self, attempt: Attempt) -> str:
        endpoint = (await self.discovery())["authorization_endpoint"]
        query = {
            "response_type": "code",
            "client_id": self.settings.client_id,
            "redirect_uri": self.settings.redirect_uri,
            "scope": "openid profile",
            "state": attempt.state,
            "nonce": attempt.nonce,
            "code_challenge": pkce.challenge_of(attempt.verifier),
            "code_challenge_method": "S256",
        }
        return f"{endpoint}?{urlencode(query)}"

    async def exchange(self, code: str, verifier: str, nonce: str) -> Tokens:
        """Trade the code (and the PKCE verifier) for tokens; check the ID token."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.settings.redirect_uri,
            "client_id": self.settings.client_id,
            "code_verifier": verifier,
        }
        if self.settings.client_secret:
            form["client_secret"] = self.settings.client_secret
        answer = await self.http.post((await self.discovery())["token_endpoint"], data=form)
        if answer.status_code != 200:
            raise SignInFailed(f"token endpoint answered {answer.status_code}")
        body = answer.json()
        claims = await run_in_threadpool(self._check_id_token, body.get("id_token", ""), nonce)
        return Tokens(body["access_token"], int(body.get("expires_in", 3600)), claims)

    def _check_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        assert self._keys is not None and self._discovery is not None
        try:
            key = self._keys.get_signing_key_from_jwt(id_token).key
            claims: dict[str, Any] = jwt.decode(
                id_token,
                key=key,
                algorithms=["RS256"],
                audience=self.settings.client_id,
                issuer=self._discovery["issuer"],
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise SignInFailed(f"ID token refused: {type(exc).__name__}") from exc
        if claims.get("nonce") != nonce:
            raise SignInFailed("ID token nonce does not match the sign-in attempt")
        if "role" not in claims:
            raise SignInFailed("ID token carries no ICAM role")
        return claims
