"""Key custody: one live key per subject, released to services and granted subscribers only, every
request audited."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from privacy_harness import CASE_SERVICE, DPO, Privacy, secret_of

from icam_auth import Principal, Role

pytestmark = pytest.mark.integration

PERSON = "person:OE-1234"


async def test_a_subject_keeps_one_key_and_a_service_opens_with_it(privacy: Privacy) -> None:
    service = privacy.as_(CASE_SERVICE)
    household = f"household:{uuid4()}"
    first = await privacy.client.post("/keys/issue", json={"subjects": [PERSON, household]}, headers=service)
    again = await privacy.client.post("/keys/issue", json={"subjects": [PERSON]}, headers=service)
    assert first.status_code == again.status_code == 200, first.text
    secret = secret_of(first.json(), PERSON)
    assert secret is not None and secret == secret_of(again.json(), PERSON)
    key_id = next(k["key_id"] for k in first.json()["keys"] if k["subject"] == PERSON)
    opened = await privacy.client.post("/keys/release", json={"key_ids": [key_id]}, headers=service)
    assert secret_of(opened.json(), PERSON) == secret
    async with privacy.pool.acquire() as conn:
        wrapped = await conn.fetchval("select wrapped from data_keys where key_id = $1", UUID(key_id))
    assert secret not in wrapped  # at rest only wrapped by the key-encryption key


async def test_a_subscriber_opens_with_a_grant_and_is_refused_without_and_both_are_audited(
    privacy: Privacy,
) -> None:
    issued = await privacy.client.post(
        "/keys/issue", json={"subjects": [PERSON]}, headers=privacy.as_(CASE_SERVICE)
    )
    key_id = issued.json()["keys"][0]["key_id"]
    statbel = Principal("statbel-reader", Role.SUBSCRIBER, organisation="statbel")
    stranger = Principal("someone", Role.SUBSCRIBER, organisation="elsewhere")
    granted = await privacy.client.post(
        "/keys/release", json={"key_ids": [key_id]}, headers=privacy.as_(statbel)
    )
    refused = await privacy.client.post(
        "/keys/release", json={"key_ids": [key_id]}, headers=privacy.as_(stranger)
    )
    assert granted.status_code == 200 and granted.json()["keys"][0]["secret"]
    assert granted.json()["keys"][0]["subject"] is None  # a subscriber is not told whose key it is
    assert refused.status_code == 403 and refused.headers["content-type"] == "application/problem+json"
    log = await privacy.client.get("/keys/access", headers=privacy.as_(Principal("aud", Role.AUDITOR)))
    rows = {(r["caller"], r["granted"]) for r in log.json()}
    assert {("statbel-reader", True), ("someone", False), ("case", True)} <= rows


async def test_people_and_coaches_cannot_obtain_keys_and_bad_subjects_are_named(privacy: Privacy) -> None:
    coach = Principal("coach-1", Role.COACH, region="brussels")
    for who in (coach, DPO, Principal("icam-batch", Role.SYSTEM)):
        answer = await privacy.client.post(
            "/keys/issue", json={"subjects": [PERSON]}, headers=privacy.as_(who)
        )
        assert answer.status_code == 403, who
    bad = await privacy.client.post(
        "/keys/issue", json={"subjects": ["Amina Example"]}, headers=privacy.as_(CASE_SERVICE)
    )
    assert bad.status_code == 422 and "Amina" not in bad.text
