"""Erasure orders: the keys are destroyed with the order, the order is announced, each service's
purge report completes the receipt; bad orders are refused with a clear problem."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
from privacy_harness import CASE_SERVICE, DPO, Feed, Privacy, invitation_sent

from icam_auth import Principal, Role
from icam_contracts.events import CaseDataPurged, PurgedStore
from icam_kernel.testing import read_topic

pytestmark = pytest.mark.integration


async def known_household(privacy: Privacy, feed: Feed, *people: str) -> UUID:
    household = uuid4()
    await feed.publish(privacy.settings.topics.invitation, invitation_sent(household, *people))
    await privacy.until(
        "select count(*) = $2 from household_members where household_id = $1", household, len(people)
    )
    return household


async def issue(privacy: Privacy, *subjects: str) -> dict[str, str]:
    answer = await privacy.client.post(
        "/keys/issue", json={"subjects": list(subjects)}, headers=privacy.as_(CASE_SERVICE)
    )
    return {k["subject"]: k["key_id"] for k in answer.json()["keys"]}


async def test_an_erasure_destroys_the_keys_at_once_and_the_receipt_fills_as_services_report(
    privacy: Privacy, feed: Feed, kafka_bootstrap: str
) -> None:
    household = await known_household(privacy, feed, "OE-1", "OE-2")
    keys = await issue(privacy, "person:OE-1", "person:OE-2", f"household:{household}")
    order = {"person_id": "OE-1", "legal_basis": "consent_withdrawn", "order_reference": "DPO-2026-7"}
    answer = await privacy.client.post("/erasures", json=order, headers=privacy.as_(DPO))
    assert answer.status_code == 201, answer.text
    erasure_id = answer.json()["id"]

    released = await privacy.client.post(
        "/keys/release", json={"key_ids": list(keys.values())}, headers=privacy.as_(CASE_SERVICE)
    )
    secrets = {k["subject"]: k["secret"] for k in released.json()["keys"]}
    assert secrets["person:OE-1"] is None and secrets[f"household:{household}"] is None
    assert secrets["person:OE-2"] is not None  # the other member keeps their identity
    announced = await read_topic(kafka_bootstrap, privacy.settings.topics.privacy, 1)
    data = announced[0]["value"]["data"]
    assert data["person_ids"] == ["OE-1"] and data["household_ids"] == [str(household)]
    assert set(data["key_ids"]) == {keys["person:OE-1"], keys[f"household:{household}"]}

    receipt = (await privacy.client.get(f"/erasures/{erasure_id}", headers=privacy.as_(DPO))).json()
    assert receipt["status"] == "in_progress" and "case" in receipt["awaiting"]
    assert {(s["store"], s["rows"]) for s in receipt["stores"]} == {
        ("data_keys", 2),
        ("household_members", 1),
    }
    report = CaseDataPurged(
        household_id=household,
        erasure_id=UUID(erasure_id),
        service="case",
        stores=(PurgedStore(store="caseload.search", rows=1),),
        purged_at=datetime.now(UTC),
    )
    await feed.publish(privacy.settings.topics.case, report)
    await privacy.until(
        "select 1 from erasure_reports where service = 'case' and erasure_id = $1", UUID(erasure_id)
    )
    auditor = Principal("aud-1", Role.AUDITOR)
    receipt = (await privacy.client.get(f"/erasures/{erasure_id}", headers=privacy.as_(auditor))).json()
    assert "case" not in receipt["awaiting"] and ("case", "caseload.search", 1) in {
        (s["service"], s["store"], s["rows"]) for s in receipt["stores"]
    }


async def test_a_second_order_answers_the_first_receipt_and_bad_orders_are_named(
    privacy: Privacy, feed: Feed
) -> None:
    await known_household(privacy, feed, "OE-9")
    order = {"person_id": "OE-9", "legal_basis": "purpose_ended"}
    first = await privacy.client.post("/erasures", json=order, headers=privacy.as_(DPO))
    again = await privacy.client.post("/erasures", json=order, headers=privacy.as_(DPO))
    assert again.status_code == 409 and again.json()["erasure_id"] == first.json()["id"]
    assert again.json()["receipt"] == f"/erasures/{first.json()['id']}"
    unknown = await privacy.client.post(
        "/erasures", json={**order, "person_id": "OE-nobody"}, headers=privacy.as_(DPO)
    )
    assert unknown.status_code == 404 and unknown.json()["field"] == "person_id"
    no_basis = await privacy.client.post("/erasures", json={"person_id": "OE-9"}, headers=privacy.as_(DPO))
    assert no_basis.status_code == 422 and "legal_basis" in no_basis.text
    coach = Principal("coach-1", Role.COACH, region="brussels")
    assert (await privacy.client.post("/erasures", json=order, headers=privacy.as_(coach))).status_code == 403
