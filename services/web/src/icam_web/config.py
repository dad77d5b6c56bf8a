"""Settings of the web workspace, from the environment (docs/configuration.md lists every variable)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
# an editable install finds the npm assets beside its sources (services/web/node_modules, build/)
CHECKOUT_ASSETS = PACKAGE.parents[1]


@dataclass(frozen=True)
class WebSettings:
    database_url: str
    gateway_url: str
    oidc_issuer: str
    oidc_discovery_url: str
    client_id: str
    client_secret: str | None
    redirect_uri: str
    public_url: str
    secure_cookies: str  # "auto" (from the request's scheme / X-Forwarded-Proto), "true" or "false"
    session_idle_minutes: int
    default_language: str
    assets_dir: Path
    gateway_timeout: float
    # the development mailbox's API (`icam up` only): None in any other deployment, and then the
    # mailbox page does not exist
    mailbox_url: str | None = None

    @classmethod
    def from_env(cls) -> WebSettings:
        env = os.environ
        public = env.get("ICAM_WEB_PUBLIC_URL") or env.get("WEB_URL") or "http://127.0.0.1:8105"
        issuer = (env.get("ICAM_OIDC_ISSUER") or env.get("OIDC_URL") or "http://127.0.0.1:8106").rstrip("/")
        return cls(
            database_url=env.get("DATABASE_URL", ""),
            gateway_url=env.get("GATEWAY_URL", "http://127.0.0.1:8100").rstrip("/"),
            oidc_issuer=issuer,
            oidc_discovery_url=env.get("ICAM_OIDC_DISCOVERY_URL")
            or f"{issuer}/.well-known/openid-configuration",
            client_id=env.get("ICAM_OIDC_CLIENT_ID", "icam-web"),
            client_secret=env.get("ICAM_OIDC_CLIENT_SECRET") or None,
            redirect_uri=env.get("ICAM_OIDC_REDIRECT_URI") or f"{public.rstrip('/')}/auth/callback",
            public_url=public.rstrip("/"),
            secure_cookies=env.get("ICAM_WEB_SECURE_COOKIES", "auto"),
            session_idle_minutes=int(env.get("ICAM_WEB_SESSION_IDLE_MINUTES", "60")),
            default_language=env.get("ICAM_WEB_DEFAULT_LANGUAGE", "fr"),
            assets_dir=Path(env.get("ICAM_WEB_ASSETS") or CHECKOUT_ASSETS),
            gateway_timeout=float(env.get("ICAM_WEB_GATEWAY_TIMEOUT", "10")),
            mailbox_url=(env.get("ICAM_MAILBOX_URL") or "").rstrip("/") or None
            if env.get("ICAM_DEV_MAILBOX") == "1"
            else None,
        )
