"""Server-side sessions on a real PostgreSQL: the cookie opens its session until the token expires or
the person is idle too long; a sign-in attempt works once; each person's language is remembered."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from starlette.requests import Request

from icam_auth import Role
from icam_web.routes.auth import secure
from icam_web.sessions import SessionStore, SignIn

CLAIMS = {"sub": "demo-coach-liege-1", "role": "coach", "region": "liege", "name": "Sam Exemple"}


@pytest.mark.integration
async def test_a_session_lives_until_its_token_expires_or_it_idles(pg_pool: asyncpg.Pool) -> None:
    store = SessionStore(pg_pool, idle=timedelta(minutes=30))
    await store.migrate()
    cookie = await store.create(CLAIMS, "access-token", expires_in=3600)
    session = await store.load(cookie)
    assert session and (session.subject, session.role, session.region) == (
        "demo-coach-liege-1",
        Role.COACH,
        "liege",
    )
    assert await store.load(cookie + "x") is None
    stored = await pg_pool.fetchval("select count(*) from web_sessions where id_hash = $1", cookie)
    assert stored == 0  # only the cookie's hash is kept

    await pg_pool.execute("update web_sessions set last_seen = now() - interval '31 minutes'")
    assert await store.load(cookie) is None  # idle too long
    expired = await store.create(CLAIMS, "access-token", expires_in=-1)
    assert await store.load(expired) is None  # the token ran out
    fresh = await store.create(CLAIMS, "access-token", expires_in=3600)
    await store.end(fresh)
    assert await store.load(fresh) is None  # signed out


@pytest.mark.integration
async def test_a_sign_in_attempt_works_once_and_the_language_is_remembered(pg_pool: asyncpg.Pool) -> None:
    store = SessionStore(pg_pool, idle=timedelta(minutes=30))
    await store.migrate()
    await store.begin_sign_in("state-1", SignIn("verifier", "nonce", "/cases/1"))
    assert await store.finish_sign_in("state-1") == SignIn("verifier", "nonce", "/cases/1")
    assert await store.finish_sign_in("state-1") is None  # a replayed callback finds nothing
    assert await store.language_of("demo-ops") is None
    await store.prefer("demo-ops", "nl")
    await store.prefer("demo-ops", "de")
    assert await store.language_of("demo-ops") == "de"


class _App:
    class state:
        class settings:
            secure_cookies = "auto"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("scheme", "forwarded", "expected"), [("http", "", False), ("https", "", True), ("http", "https", True)]
)
def test_cookies_are_secure_behind_tls(scheme: str, forwarded: str, expected: bool) -> None:
    headers = [(b"host", b"icam.example")] + (
        [(b"x-forwarded-proto", forwarded.encode())] if forwarded else []
    )
    scope = {
        "type": "http",
        "scheme": scheme,
        "headers": headers,
        "app": _App(),
        "path": "/",
        "query_string": b"",
    }
    assert secure(Request(scope)) is expected
