"""Bearer-token checks: RS256 signatures against the issuer's JWKS, issuer, audience, expiry."""

from __future__ import annotations

import json
import os
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from fastapi import HTTPException

from icam_auth.principal import Principal, Role

DEFAULT_AUDIENCE = "icam"


class Unauthenticated(HTTPException):
    """No token, or one that is not valid: HTTP 401."""

    def __init__(self, detail: str) -> None:
        super().__init__(401, detail=detail, headers={"WWW-Authenticate": 'Bearer realm="icam"'})


class Forbidden(HTTPException):
    """A valid caller asking for what their role does not allow: HTTP 403."""

    def __init__(self, detail: str) -> None:
        super().__init__(403, detail=detail)


@dataclass(frozen=True)
class AuthSettings:
    """Where keys come from: `ICAM_AUTH_JWKS` is a JWKS URL or a file holding a JWKS."""

    issuer: str
    audience: str
    jwks: str

    @classmethod
    def from_env(cls) -> AuthSettings:
        return cls(
            issuer=os.environ.get("ICAM_AUTH_ISSUER", "icam-local"),
            audience=os.environ.get("ICAM_AUTH_AUDIENCE", DEFAULT_AUDIENCE),
            jwks=os.environ.get("ICAM_AUTH_JWKS", ""),
        )


class TokenVerifier:
    """Turns an `Authorization: Bearer ...` value into a Principal, or says why it cannot.

    A token already verified is answered from memory until it expires (up to `remembered`
    tokens): a service's token comes with each of its key requests, a user's with each call the
    gateway forwards, and the RS256 check was a tenth of the key custodian's work under load
    (issue 16). A token is only ever remembered after a full check, and never past its `exp`.
    """

    def __init__(self, settings: AuthSettings, *, remembered: int = 4096) -> None:
        self._settings = settings
        self._verified: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self._remembered = remembered
        self._client: jwt.PyJWKClient | None = None
        self._keys: jwt.PyJWKSet | None = None
        if settings.jwks.startswith(("http://", "https://")):
            self._client = jwt.PyJWKClient(settings.jwks, cache_keys=True, lifespan=300)
        elif settings.jwks:
            self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(settings.jwks).read_text()))

    @property
    def remote(self) -> bool:
        """Whether keys come from a JWKS URL (fetching them may block)."""
        return self._client is not None

    def _key_for(self, token: str) -> Any:
        if self._client is not None:
            return self._client.get_signing_key_from_jwt(token).key
        if self._keys is None:
            raise Unauthenticated("no token issuer is configured (ICAM_AUTH_JWKS)")
        kid = jwt.get_unverified_header(token).get("kid")
        for key in self._keys.keys:
            if kid is None or key.key_id == kid:
                return key.key
        raise Unauthenticated("the token was signed by an unknown key")

    def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None and time.time() < known[0]:
            return known[1]
        principal, expires = self._check(token)
        self._verified[token] = (expires, principal)
        if len(self._verified) > self._remembered:
            self._verified.popitem(last=False)  # the oldest remembered
        return principal

    def _check(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                key=self._key_for(token),
                algorithms=["RS256"],
                audience=self._settings.audience,
                issuer=self._settings.issuer,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
            return Principal.from_claims(claims), float(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Unauthenticated(f"invalid token: {exc}") from exc

    def from_header(self, authorization: str | None) -> Principal:
        if not authorization or not authorization.lower().startswith("bearer "):
            raise Unauthenticated("a bearer token is required")
        return self.verify(authorization.split(" ", 1)[1].strip())


def require_role(principal: Principal, *roles: Role) -> Principal:
    if principal.role not in roles:
        allowed = ", ".join(r.value for r in roles)
        raise Forbidden(f"role {principal.role.value} may not do this (allowed: {allowed})")
    return principal
