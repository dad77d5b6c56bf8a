"""Server-side sessions in the web's own PostgreSQL database, so they survive a restart.

The cookie carries only a random id; the database keeps its SHA-256 (a copy of the table opens no
session), the person's access token, their CSRF token and when the session ends: at the token's
expiry, or after `idle` without a request. Sign-in attempts (state, PKCE verifier, nonce, the page
to return to) and each person's language live here too.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from icam_auth import Role
from icam_web import csrf

SCHEMA = """
create table if not exists web_sessions (
    id_hash text primary key,
    subject text not null,
    role text not null,
    region text,
    organisation text,
    name text not null default '',
    access_token text not null,
    csrf_token text not null,
    expires_at timestamptz not null,
    last_seen timestamptz not null default now(),
    created_at timestamptz not null default now()
);
create index if not exists web_sessions_expires on web_sessions (expires_at);
create table if not exists web_sign_ins (
    state text primary key,
    verifier text not null,
    nonce text not null,
    next_page text not null,
    created_at timestamptz not null default now()
);
create table if not exists web_preferences (
    subject text primary key,
    language text not null,
    updated_at timestamptz not null default now()
);
"""
SIGN_IN_SECONDS = 600
TOUCH_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class Session:
    """Who is signed in, with what token, and the CSRF token of their forms."""

    subject: str
    role: Role
    region: str | None
    organisation: str | None
    name: str
    access_token: str
    csrf_token: str
    expires_at: datetime

    @property
    def scope(self) -> str:
        return self.region or self.organisation or ""


@dataclass(frozen=True)
class SignIn:
    verifier: str
    nonce: str
    next_page: str


def _hash(cookie: str) -> str:
    return hashlib.sha256(cookie.encode()).hexdigest()


class SessionStore:
    def __init__(self, pool: asyncpg.Pool, idle: timedelta) -> None:
        self.pool = pool
        self.idle = idle

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.execute(SCHEMA)

    async def create(self, claims: dict[str, Any], access_token: str, expires_in: int) -> str:
        """A new session for the ID token's `claims`; returns the cookie value."""
        cookie = secrets.token_urlsafe(32)
        await self.pool.execute(
            "insert into web_sessions (id_hash, subject, role, region, organisation, name, access_token,"
            " csrf_token, expires_at) values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            _hash(cookie),
            str(claims["sub"]),
            str(claims["role"]),
            claims.get("region"),
            claims.get("organisation"),
            str(claims.get("name") or claims["sub"]),
            access_token,
            csrf.new_token(),
            datetime.now(UTC) + timedelta(seconds=expires_in),
        )
        await self.pool.execute("delete from web_sessions where expires_at < now() - interval '1 day'")
        return cookie

    async def load(self, cookie: str | None) -> Session | None:
        """The live session of `cookie`; None when unknown, expired or idle too long."""
        if not cookie:
            return None
        row = await self.pool.fetchrow("select * from web_sessions where id_hash = $1", _hash(cookie))
        now = datetime.now(UTC)
        if row is None or row["expires_at"] <= now or row["last_seen"] + self.idle <= now:
            return None
        if now - row["last_seen"] > TOUCH_EVERY:
            await self.pool.execute(
                "update web_sessions set last_seen = $2 where id_hash = $1", row["id_hash"], now
            )
        return Session(
            row["subject"],
            Role(row["role"]),
            row["region"],
            row["organisation"],
            row["name"],
            row["access_token"],
            row["csrf_token"],
            row["expires_at"],
        )

    async def end(self, cookie: str | None) -> None:
        if cookie:
            await self.pool.execute("delete from web_sessions where id_hash = $1", _hash(cookie))

    async def begin_sign_in(self, state: str, attempt: SignIn) -> None:
        await self.pool.execute(
            "insert into web_sign_ins (state, verifier, nonce, next_page) values ($1, $2, $3, $4)",
            state,
            attempt.verifier,
            attempt.nonce,
            attempt.next_page,
        )
        await self.pool.execute(
            f"delete from web_sign_ins where created_at < now() - interval '{SIGN_IN_SECONDS} seconds'"
        )

    async def finish_sign_in(self, state: str) -> SignIn | None:
        """The attempt `state` names, once: a replayed callback finds nothing."""
        row = await self.pool.fetchrow(
            "delete from web_sign_ins where state = $1 and created_at > now() - $2::interval"
            " returning verifier, nonce, next_page",
            state,
            timedelta(seconds=SIGN_IN_SECONDS),
        )
        return SignIn(row["verifier"], row["nonce"], row["next_page"]) if row else None

    async def language_of(self, subject: str) -> str | None:
        value = await self.pool.fetchval("select language from web_preferences where subject = $1", subject)
        return str(value) if value else None

    async def prefer(self, subject: str, language: str) -> None:
        await self.pool.execute(
            "insert into web_preferences (subject, language) values ($1, $2) on conflict (subject)"
            " do update set language = excluded.language, updated_at = now()",
            subject,
            language,
        )
