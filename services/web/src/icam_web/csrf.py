"""Cross-site request forgery: one secret token per session, in every form and every htmx request.

A POST without the session's token (form field `csrf_token` or header `X-CSRF-Token`) is refused.
SameSite=Lax cookies already stop most cross-site posts; the token covers the rest (older browsers,
same-site subdomains).
"""

from __future__ import annotations

import hmac
import secrets

FIELD = "csrf_token"
HEADER = "x-csrf-token"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def matches(expected: str | None, presented: str | None) -> bool:
    """Constant-time comparison; a missing token on either side never matches."""
    if not expected or not presented:
        return False
    return hmac.compare_digest(expected.encode(), presented.encode())
