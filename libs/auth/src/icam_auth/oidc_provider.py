"""A small local OpenID provider for development, demos and tests (production points at a real IdP).

Authorisation code flow with PKCE (S256 only): `/authorize` shows a sign-in page listing the made-up
staff of `icam_auth.staff`; choosing one redirects back with a one-time code; `/token` exchanges the
code (verifier checked) for an access token — the same RS256 token the `LocalIssuer` mints, with the
same key, so the gateway and every service accept it — and an ID token for the client.

    uvicorn --factory icam_auth.oidc_provider:create_app --port 8106
"""

from __future__ import annotations

import html
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from icam_auth import pkce, staff
from icam_auth.issuer import LocalIssuer

CODE_SECONDS = 60


@dataclass(frozen=True)
class ProviderSettings:
    """Where the provider is reached, which clients may use it, and how long its tokens live."""

    issuer: str
    clients: dict[str, tuple[str, ...]]  # client id -> allowed redirect URIs
    keys: Path
    token_ttl: int = 8 * 3600
    # where servers (not browsers) reach the token endpoint and keys, when that differs (compose)
    backchannel: str | None = None

    @classmethod
    def from_env(cls) -> ProviderSettings:
        env = os.environ
        issuer = env.get("ICAM_OIDC_ISSUER") or env.get("OIDC_URL") or "http://127.0.0.1:8106"
        web = env.get("WEB_URL", "http://127.0.0.1:8105")
        raw = env.get("ICAM_OIDC_CLIENTS") or json.dumps({"icam-web": [f"{web}/auth/callback"]})
        clients = {cid: tuple(uris) for cid, uris in json.loads(raw).items()}
        home = Path(env.get("ICAM_HOME", ".icam"))
        ttl = int(env.get("ICAM_OIDC_TOKEN_TTL", 8 * 3600))
        backchannel = (env.get("ICAM_OIDC_BACKCHANNEL_URL") or "").rstrip("/") or None
        return cls(issuer.rstrip("/"), clients, home / "auth", ttl, backchannel)


@dataclass(frozen=True)
class Grant:
    """What a one-time code stands for until it is exchanged."""

    member: staff.StaffMember
    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str | None
    expires: float


@dataclass
class Provider:
    settings: ProviderSettings
    issuer: LocalIssuer
    codes: dict[str, Grant] = field(default_factory=dict)

    def discovery(self) -> dict[str, Any]:
        base = self.settings.issuer
        server = self.settings.backchannel or base
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{server}/token",
            "jwks_uri": f"{server}/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": ["openid", "profile"],
            "claims_supported": ["sub", "name", "role", "region", "organisation"],
        }

    def check_client(self, client_id: str, redirect_uri: str) -> str | None:
        """Why the client or its redirect URI is refused, or None."""
        allowed = self.settings.clients.get(client_id)
        if allowed is None:
            return "unknown client"
        return None if redirect_uri in allowed else "redirect URI not registered for this client"

    def issue_code(self, grant: Grant) -> str:
        now = time.time()
        for code in [c for c, g in self.codes.items() if g.expires < now]:
            del self.codes[code]  # expired codes never pile up
        code = secrets.token_urlsafe(32)
        self.codes[code] = grant
        return code

    def exchange(self, code: str, client_id: str, redirect_uri: str, verifier: str) -> dict[str, Any] | str:
        """The token response, or the OAuth error code; a code works once."""
        grant = self.codes.pop(code, None)
        if grant is None or grant.expires < time.time():
            return "invalid_grant"
        if grant.client_id != client_id or grant.redirect_uri != redirect_uri:
            return "invalid_grant"
        if not pkce.verifies(verifier, grant.challenge):
            return "invalid_grant"
        ttl = self.settings.token_ttl
        member = grant.member
        return {
            "access_token": self.issuer.mint(member.principal, ttl_seconds=ttl),
            "id_token": self.id_token(grant, ttl),
            "token_type": "Bearer",
            "expires_in": ttl,
            "scope": "openid profile",
        }

    def id_token(self, grant: Grant, ttl: int) -> str:
        now = int(time.time())
        claims: dict[str, Any] = grant.member.principal.claims() | {
            "iss": self.settings.issuer,
            "aud": grant.client_id,
            "iat": now,
            "auth_time": now,
            "exp": now + ttl,
            "name": grant.member.name,
        }
        if grant.nonce:
            claims["nonce"] = grant.nonce
        return self.issuer.sign(claims)


def create_app(settings: ProviderSettings | None = None) -> FastAPI:
    settings = settings or ProviderSettings.from_env()
    provider = Provider(settings, LocalIssuer(settings.keys))
    app = FastAPI(title="ICAM local OpenID provider", version="0.1.0", docs_url=None, redoc_url=None)

    @app.get("/.well-known/openid-configuration")
    async def discovery() -> dict[str, Any]:
        return provider.discovery()

    @app.get("/jwks.json")
    async def jwks() -> dict[str, Any]:
        return provider.issuer.jwks()

    @app.get("/health/live")
    @app.get("/health/ready")
    async def health() -> dict[str, str]:
        return {"status": "ready"}

    @app.get("/authorize")
    async def authorize(request: Request) -> Response:
        params = dict(request.query_params)
        refusal = _refusal(provider, params)
        if refusal:
            return HTMLResponse(_page("Sign-in refused", f"<p>{html.escape(refusal)}</p>"), status_code=400)
        return HTMLResponse(sign_in_page(params))

    @app.post("/authorize")
    async def chosen(request: Request, subject: str = Form(...)) -> Response:
        params = {k: str(v) for k, v in (await request.form()).items() if k != "subject"}
        member = staff.find(subject)
        refusal = _refusal(provider, params) or (None if member else "unknown staff member")
        if refusal or member is None:
            return HTMLResponse(_page("Sign-in refused", f"<p>{html.escape(refusal or '')}</p>"), 400)
        grant = Grant(
            member,
            params["client_id"],
            params["redirect_uri"],
            params["code_challenge"],
            params.get("nonce"),
            time.time() + CODE_SECONDS,
        )
        query = urlencode({"code": provider.issue_code(grant), "state": params.get("state", "")})
        return RedirectResponse(f"{params['redirect_uri']}?{query}", status_code=303)

    @app.post("/token")
    async def token(
        grant_type: str = Form(...),
        code: str = Form(...),
        redirect_uri: str = Form(...),
        client_id: str = Form(...),
        code_verifier: str = Form(...),
    ) -> Response:
        if grant_type != "authorization_code":
            return _oauth_error("unsupported_grant_type")
        answer = provider.exchange(code, client_id, redirect_uri, code_verifier)
        if isinstance(answer, str):
            return _oauth_error(answer)
        return JSONResponse(answer, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    return app


def _refusal(provider: Provider, params: dict[str, str]) -> str | None:
    """Why an authorisation request cannot be served (shown, never redirected: the URI is untrusted)."""
    if params.get("response_type") != "code":
        return "only the authorisation code flow is supported (response_type=code)"
    if params.get("code_challenge_method") != "S256" or not params.get("code_challenge"):
        return "PKCE with S256 is required (code_challenge, code_challenge_method=S256)"
    if "openid" not in params.get("scope", "").split():
        return "the openid scope is required"
    return provider.check_client(params.get("client_id", ""), params.get("redirect_uri", ""))


def _oauth_error(error: str) -> JSONResponse:
    return JSONResponse({"error": error}, status_code=400, headers={"Cache-Control": "no-store"})


ROLE_HEADINGS = {
    "coach": "ICAM coaches",
    "team_lead": "Team leads",
    "return_partner": "Return partners",
    "ops_viewer": "Operations",
    "auditor": "Audit",
    "admin": "Administration",
}


def sign_in_page(params: dict[str, str]) -> str:
    """One form: the authorisation request in hidden fields, one button per staff member."""
    hidden = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in params.items()
    )
    sections = []
    for role, heading in ROLE_HEADINGS.items():
        rows = "".join(
            f"<tr><td>{html.escape(m.name)}</td>"
            f"<td>{html.escape(m.principal.region or m.principal.organisation or '')}</td>"
            f'<td><button type="submit" name="subject" value="{html.escape(m.subject)}">'
            f'Sign in<span class="visually-hidden"> as {html.escape(m.name)}</span></button></td></tr>'
            for m in staff.directory()
            if m.principal.role.value == role
        )
        sections.append(
            f'<h2 id="{role}">{heading}</h2><table aria-labelledby="{role}"><thead><tr><th scope="col">Name'
            f'</th><th scope="col">Region or organisation</th><th scope="col">Action</th></tr></thead>'
            f"<tbody>{rows}</tbody></table>"
        )
    body = (
        "<p>Local sign-in for development and demonstrations. Every person here is made up; "
        "in production the programme's identity provider signs people in.</p>"
        f'<form method="post" action="/authorize">{hidden}{"".join(sections)}</form>'
    )
    return _page("Sign in to ICAM", body)


def _page(title: str, body: str) -> str:
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif; margin: 0;
  color: #0b0c0c; }}
header {{ background: #1f4e79; color: #fff; padding: 12px 24px; border-bottom: 6px solid #f0b323; }}
main {{ padding: 12px 24px; max-width: 960px; }}
table {{ border-collapse: collapse; width: 100%; margin-bottom: 16px; }}
th, td {{ text-align: left; border-bottom: 1px solid #b1b4b6; padding: 6px 8px 6px 0; }}
button {{ font: inherit; background: #00703c; color: #fff; border: 0; padding: 4px 12px; cursor: pointer; }}
button:focus, a:focus {{ outline: 3px solid #fd0; outline-offset: 0; box-shadow: 0 0 0 6px #0b0c0c; }}
.visually-hidden {{ position: absolute !important; width: 1px; height: 1px; overflow: hidden;
  clip: rect(0 0 0 0); white-space: nowrap; }}
</style></head><body><header><strong>ICAM — Alternatives to Detention</strong> · local sign-in</header>
<main id="main"><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
