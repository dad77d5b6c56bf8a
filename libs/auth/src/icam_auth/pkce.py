"""Proof Key for Code Exchange (RFC 7636), S256 only: the client keeps a verifier, sends its challenge.

Shared by the web's OpenID client and the local OpenID provider, so both sides compute the same thing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

# RFC 7636 §4.1: 43-128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"
VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def new_verifier() -> str:
    """A fresh code verifier: 32 random bytes, base64url without padding (43 characters)."""
    return secrets.token_urlsafe(32)


def challenge_of(verifier: str) -> str:
    """The S256 code challenge: BASE64URL(SHA256(verifier)) without padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifies(verifier: str, challenge: str, method: str = "S256") -> bool:
    """Whether `verifier` answers `challenge`; only S256 is accepted (plain is refused)."""
    if method != "S256" or not VERIFIER.fullmatch(verifier or ""):
        return False
    return hmac.compare_digest(challenge_of(verifier), challenge)
