"""The partner's HTTP API on a running service: inbox, acknowledge, reject, departure, withdrawal."""

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from icam_auth import Role
from icam_kernel.projections import rebuild
from icam_referral.projections import ReferralView

from .conftest import CaseFeed, Service, refer

pytestmark = pytest.mark.integration


async def test_a_partner_sees_the_referral_in_its_inbox_and_acknowledges_it(
    service: Service, case_feed: CaseFeed
) -> None:
    referral_id = await refer(service, case_feed)
    fedasil = service.partner("fedasil")

    inbox = (await service.client.get("/partners/fedasil/inbox", headers=fedasil)).json()
    acknowledged = await service.client.post(
        f"/referrals/{referral_id}/acknowledge", json={"partner_reference": "FED-1"}, headers=fedasil
    )
    again = await service.client.post(f"/referrals/{referral_id}/acknowledge", json={}, headers=fedasil)
    detail = (await service.client.get(f"/referrals/{referral_id}", headers=fedasil)).json()

    assert inbox["total"] == 1
    [item] = inbox["items"]
    assert item["referral_id"] == str(referral_id) and item["deadline_status"] == "ok"
    assert "members" not in item
    assert acknowledged.status_code == 202
    accepted = acknowledged.json()
    assert {k: accepted[k] for k in ("referral_id", "stream_id", "stream_version", "events")} == {
        "referral_id": str(referral_id),
        "stream_id": str(referral_id),
        "stream_version": 2,
        "events": ["ReferralAcknowledged"],
    }
    assert accepted["position"] > 0 and accepted["next_referral_id"] is None
    assert again.status_code == 409
    assert again.json()["type"] == "urn:icam:problem:referral-already-acknowledged"
    assert detail["status"] == "acknowledged" and detail["partner_reference"] == "FED-1"
    assert [m["given_name"] for m in detail["members"]] == ["Amina", "Yasmine"]


async def test_a_partner_cannot_see_or_answer_another_partners_referral(
    service: Service, case_feed: CaseFeed
) -> None:
    referral_id = await refer(service, case_feed)
    iom = service.partner("iom")

    assert (await service.client.get(f"/referrals/{referral_id}", headers=iom)).status_code == 404
    assert (
        await service.client.post(f"/referrals/{referral_id}/acknowledge", json={}, headers=iom)
    ).status_code == 404
    assert (await service.client.get("/partners/fedasil/inbox", headers=iom)).status_code == 403
    assert (await service.client.get(f"/referrals/{referral_id}")).status_code == 401
    ops = service.auth(Role.OPS_VIEWER)
    assert (await service.client.get(f"/referrals/{referral_id}", headers=ops)).status_code == 403
    coach = service.auth(Role.COACH, region="brussels")
    assert (
        await service.client.post(f"/referrals/{referral_id}/acknowledge", json={}, headers=coach)
    ).status_code == 403
    assert (await service.client.get(f"/referrals/{uuid4()}", headers=iom)).status_code == 404
    coach_elsewhere = service.auth(Role.COACH, region="liege")
    assert (await service.client.get(f"/referrals/{referral_id}", headers=coach)).status_code == 200
    assert (await service.client.get(f"/referrals/{referral_id}", headers=coach_elsewhere)).status_code == 403


async def test_each_rejection_refers_to_the_next_partner_until_none_is_left(
    service: Service, case_feed: CaseFeed
) -> None:
    referral_id: UUID | None = await refer(service, case_feed)
    answers = []
    for partner in ("fedasil", "iom", "caritas_international"):
        response = await service.client.post(
            f"/referrals/{referral_id}/reject",
            json={"reason": "no capacity"},
            headers=service.partner(partner),
        )
        assert response.status_code == 202, response.text
        answers.append(response.json())
        referral_id = response.json()["next_referral_id"]

    assert [a["referral_not_made"] for a in answers] == [None, None, "none_left"]
    assert answers[2]["next_referral_id"] is None
    iom_inbox = (await service.client.get("/partners/iom/inbox", headers=service.partner("iom"))).json()
    assert iom_inbox["total"] == 0  # iom's referral was rejected: no longer open
    async with service.pool.acquire() as conn:
        not_made = await conn.fetchval("select data from events where event_type = 'ReferralNotMade'")
    assert (
        '"none_left"' in not_made and '"declined_by": ["fedasil", "iom", "caritas_international"]' in not_made
    )


async def test_a_departure_is_counted_in_the_pipeline_without_personal_data(
    service: Service, case_feed: CaseFeed
) -> None:
    referral_id = await refer(service, case_feed)
    fedasil = service.partner("fedasil")
    await service.client.post(f"/referrals/{referral_id}/acknowledge", json={}, headers=fedasil)

    departed = await service.client.post(
        f"/referrals/{referral_id}/departure",
        json={
            "departed_on": str(date.today() - timedelta(days=1)),
            "destination_country": "MA",
            "reintegration_support": True,
        },
        headers=fedasil,
    )
    stats = await service.client.get("/stats/pipeline", headers=service.auth(Role.OPS_VIEWER))
    by_partner = await service.client.get("/stats/pipeline", params={"partner": "fedasil"}, headers=fedasil)

    assert departed.status_code == 202 and departed.json()["events"] == ["VoluntaryReturnCompleted"]
    [row] = stats.json()["rows"]
    assert row | {"avg_hours_to_acknowledgement": None, "avg_days_to_departure": None} == {
        "partner": "fedasil",
        "region": "brussels",
        "month": row["month"],
        "referred": 1,
        "acknowledged": 1,
        "departed": 1,
        "withdrawn": 0,
        "rejected": 0,
        "open": 0,
        "overdue": 0,
        "reintegration_support": 1,
        "avg_hours_to_acknowledgement": None,
        "avg_days_to_departure": None,
    }
    assert row["avg_days_to_departure"] is not None
    assert "Amina" not in stats.text and "8123456" not in stats.text
    assert by_partner.status_code == 403


async def test_invalid_commands_name_the_field_and_stale_versions_conflict(
    service: Service, case_feed: CaseFeed
) -> None:
    referral_id = await refer(service, case_feed)
    fedasil = service.partner("fedasil")

    bad_country = await service.client.post(
        f"/referrals/{referral_id}/departure",
        json={"departed_on": "2026-04-20", "destination_country": "Morocco", "reintegration_support": False},
        headers=fedasil,
    )
    empty_reason = await service.client.post(
        f"/referrals/{referral_id}/reject", json={"reason": ""}, headers=fedasil
    )
    stale = await service.client.post(
        f"/referrals/{referral_id}/acknowledge", json={"expected_version": 3}, headers=fedasil
    )
    not_yet = await service.client.post(
        f"/referrals/{referral_id}/departure",
        json={"departed_on": "2026-04-20", "destination_country": "MA", "reintegration_support": False},
        headers=fedasil,
    )

    assert (
        bad_country.status_code == 422 and bad_country.json()["errors"][0]["field"] == "destination_country"
    )
    assert empty_reason.status_code == 422 and empty_reason.json()["errors"][0]["field"] == "reason"
    assert stale.status_code == 409 and stale.json()["current_version"] == 1
    assert (
        not_yet.status_code == 409 and not_yet.json()["type"] == "urn:icam:problem:referral-not-acknowledged"
    )


async def test_the_assigned_coach_records_that_the_person_withdrew(
    service: Service, case_feed: CaseFeed
) -> None:
    referral_id = await refer(service, case_feed)
    other_coach = service.auth(Role.COACH, subject="coach-9", region="brussels")
    assigned = service.auth(Role.COACH, subject="coach-4711", region="brussels")

    refused = await service.client.post(f"/referrals/{referral_id}/withdrawal", json={}, headers=other_coach)
    withdrawn = await service.client.post(
        f"/referrals/{referral_id}/withdrawal", json={"reason_text": "wants to wait"}, headers=assigned
    )
    after = await service.client.post(
        f"/referrals/{referral_id}/acknowledge", json={}, headers=service.partner("fedasil")
    )

    assert refused.status_code == 403
    assert withdrawn.status_code == 202 and withdrawn.json()["events"] == ["ReferralWithdrawn"]
    assert after.status_code == 409 and after.json()["type"] == "urn:icam:problem:referral-closed"


async def test_the_catalogue_lists_the_partners_and_the_service_is_ready(service: Service) -> None:
    partners = await service.client.get("/partners", headers=service.auth(Role.COACH, region="liege"))
    ready = await service.client.get("/health/ready")

    assert [p["code"] for p in partners.json()] == ["fedasil", "iom", "caritas_international"]
    assert partners.json()[0]["acknowledge_within_working_days"] == 5
    assert ready.status_code == 200, ready.text


async def test_rebuilding_the_read_model_gives_the_live_one(service: Service, case_feed: CaseFeed) -> None:
    first, second = await refer(service, case_feed), await refer(service, case_feed)
    fedasil = service.partner("fedasil")
    await service.client.post(f"/referrals/{first}/acknowledge", json={}, headers=fedasil)
    await service.client.post(f"/referrals/{second}/reject", json={"reason": "no capacity"}, headers=fedasil)
    query = "select * from referral_view order by referral_id"
    async with service.pool.acquire() as conn:
        live = [dict(r) for r in await conn.fetch(query)]

    replayed = await rebuild(service.pool, ReferralView(), service.app.state.application.store)

    async with service.pool.acquire() as conn:
        rebuilt = [dict(r) for r in await conn.fetch(query)]
    assert replayed == 5 and len(live) == 3
    assert rebuilt == live
