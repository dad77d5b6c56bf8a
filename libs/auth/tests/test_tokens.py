"""Tokens from the local issuer are accepted; forged, expired or foreign ones are not."""

from __future__ import annotations

import json
from pathlib import Path

import jwt
import pytest

from icam_auth import AuthSettings, Principal, Role, TokenVerifier, Unauthenticated
from icam_auth.issuer import LocalIssuer

pytestmark = pytest.mark.unit

COACH = Principal("coach-17", Role.COACH, region="brussels")


@pytest.fixture
def issuer(tmp_path: Path) -> LocalIssuer:
    return LocalIssuer(tmp_path / "auth")


def verifier_for(issuer: LocalIssuer) -> TokenVerifier:
    return TokenVerifier(AuthSettings(issuer.issuer, issuer.audience, str(issuer.write_jwks())))


def test_a_minted_token_yields_the_principal_it_was_minted_for(issuer: LocalIssuer) -> None:
    assert verifier_for(issuer).verify(issuer.mint(COACH)) == COACH


def test_the_key_pair_survives_a_restart_so_tokens_stay_valid(issuer: LocalIssuer) -> None:
    token = issuer.mint(COACH)
    again = LocalIssuer(issuer.folder)
    assert again.key_id == issuer.key_id
    assert verifier_for(again).verify(token) == COACH


def test_an_expired_token_is_refused(issuer: LocalIssuer) -> None:
    with pytest.raises(Unauthenticated, match="expired"):
        verifier_for(issuer).verify(issuer.mint(COACH, ttl_seconds=-10))


def test_a_token_signed_by_another_key_is_refused(issuer: LocalIssuer, tmp_path: Path) -> None:
    intruder = LocalIssuer(tmp_path / "intruder")
    with pytest.raises(Unauthenticated):
        verifier_for(issuer).verify(intruder.mint(COACH))


def test_an_unsigned_token_is_refused(issuer: LocalIssuer) -> None:
    forged = jwt.encode(COACH.claims() | {"iss": issuer.issuer, "aud": "icam"}, key=None, algorithm="none")
    with pytest.raises(Unauthenticated):
        verifier_for(issuer).verify(forged)


def test_a_missing_bearer_header_is_unauthenticated(issuer: LocalIssuer) -> None:
    with pytest.raises(Unauthenticated, match="bearer token is required"):
        verifier_for(issuer).from_header(None)


def test_the_jwks_publishes_only_the_public_key(issuer: LocalIssuer) -> None:
    jwks = json.loads(issuer.write_jwks().read_text())
    assert set(jwks["keys"][0]) >= {"kid", "n", "e", "kty"}
    assert "d" not in jwks["keys"][0]


def test_a_coach_works_in_their_region_only() -> None:
    assert COACH.works_in("brussels")
    assert not COACH.works_in("antwerp")
    assert not Principal("ops-1", Role.OPS_VIEWER).may_see_personal_data


def test_a_verified_token_is_answered_from_memory_until_it_expires(
    issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = verifier_for(issuer)
    token = issuer.mint(COACH, ttl_seconds=60)
    assert verifier.verify(token) == COACH
    checks: list[str] = []
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: checks.append("checked") or {})  # would fail

    assert verifier.verify(token) == COACH and checks == []  # remembered
    monkeypatch.setattr("icam_auth.verify.time.time", lambda: 4_000_000_000.0)  # long after its exp
    with pytest.raises(Unauthenticated):
        verifier.verify(token)
    assert checks == ["checked"]


def test_a_refused_token_is_never_remembered(issuer: LocalIssuer) -> None:
    verifier = verifier_for(issuer)
    expired = issuer.mint(COACH, ttl_seconds=-10)
    for _ in range(2):
        with pytest.raises(Unauthenticated, match="expired"):
            verifier.verify(expired)


def test_only_the_latest_tokens_are_remembered(issuer: LocalIssuer, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = AuthSettings(issuer.issuer, issuer.audience, str(issuer.write_jwks()))
    verifier = TokenVerifier(settings, remembered=2)
    tokens = [issuer.mint(Principal(f"coach-{i}", Role.COACH, region="brussels")) for i in range(3)]
    for token in tokens:
        verifier.verify(token)
    checked: list[str] = []
    full_check = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda token, **k: checked.append(token) or full_check(token, **k))

    for token in (tokens[2], tokens[1], tokens[0]):
        verifier.verify(token)

    assert checked == [tokens[0]]  # the two latest were remembered, the oldest forgotten
