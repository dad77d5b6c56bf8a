"""What the referral service tells the case, through the case's real handler table and inbox, and
the case's own commands on a trajectory that is suspended, closed or waiting for a document."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from incoming import (
    ADULT,
    APPOINTMENT,
    CHILD,
    deliver,
    invitation_sent,
    recorded,
    referred,
    withdrawn,
)

from icam_contracts.enums import ReferralNotMadeReason
from icam_contracts.events import ReferralAcknowledged, ReferralNotMade, ReferralOverdue, ReferralRejected

pytestmark = pytest.mark.integration


async def open_case(case_app: Any) -> tuple[uuid.UUID, uuid.UUID]:
    household = uuid.uuid4()
    first_contact = datetime.now(UTC) - timedelta(days=2)
    await deliver(case_app, recorded(invitation_sent(household), occurred_at=first_contact))
    async with case_app.service.pool.acquire() as conn:
        case_id = await conn.fetchval("select case_id from open_cases where household_id = $1", household)
    return household, case_id


async def post(case_app: Any, path: str, body: dict[str, Any]) -> Any:
    return await case_app.client.post(path, json=body, headers=case_app.headers())


async def case_view(case_app: Any, case_id: uuid.UUID) -> dict[str, Any]:
    response = await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers())
    assert response.status_code == 200, response.text
    return dict(response.json())


async def decided_for_return(case_app: Any, case_id: uuid.UUID) -> uuid.UUID:
    headers = case_app.headers()
    interview = {
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "kind": "intake",
        "language": "fr",
        "attendees": [ADULT, CHILD],
        "interpreter_present": False,
    }
    assert (
        await case_app.client.post(f"/cases/{case_id}/interviews", json=interview, headers=headers)
    ).is_success
    outcome = {
        "outcome": "return_accepted",
        "rationale": "no ground for a stay application",
        "communicated": "voluntary return explained",
        "communicated_in": "fr",
        "consent_to_referral": True,
    }
    decided = await case_app.client.post(f"/cases/{case_id}/outcome", json=outcome, headers=headers)
    assert decided.status_code == 201, decided.text
    return uuid.UUID(decided.json()["id"])


async def test_each_piece_of_referral_news_moves_the_cases_referral_status(case_app):
    household, case_id = await open_case(case_app)
    decision = await decided_for_return(case_app, case_id)
    referral = referred(household, case_id, decision)
    r = {
        "household_id": household,
        "referral_id": referral.referral_id,
        "case_id": case_id,
        "partner": "fedasil",
    }

    await deliver(case_app, referral)
    assert (await case_view(case_app, case_id))["referral_status"] == "referred"
    await deliver(case_app, ReferralOverdue(**r, acknowledge_by=APPOINTMENT))
    overdue = await case_view(case_app, case_id)
    assert overdue["referral_status"] == "overdue" and "referral_stalled" in overdue["flags"]
    await deliver(case_app, ReferralAcknowledged(**r, partner_reference="FED-1"))
    acknowledged = await case_view(case_app, case_id)
    assert (
        acknowledged["referral_status"] == "acknowledged" and "referral_stalled" not in acknowledged["flags"]
    )
    await deliver(case_app, ReferralRejected(**r, reason="destination outside the programme"))
    rejected = await case_view(case_app, case_id)
    assert rejected["referral_status"] == "rejected" and "referral_stalled" in rejected["flags"]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


async def test_a_shared_document_is_seen_by_the_referrals_partner_only_while_it_holds_the_referral(case_app):
    household, case_id = await open_case(case_app)
    referral = referred(household, case_id, await decided_for_return(case_app, case_id))
    await deliver(case_app, referral)
    coach = case_app.headers()
    added = await case_app.client.post(
        f"/cases/{case_id}/documents",
        params={"kind": "travel_document", "person_id": ADULT},
        content=PDF,
        headers=coach | {"content-type": "application/pdf"},
    )
    kept_back = await case_app.client.post(
        f"/cases/{case_id}/documents",
        params={"kind": "medical_certificate"},
        content=PDF,
        headers=coach | {"content-type": "application/pdf"},
    )
    document = added.json()["id"]
    fedasil = case_app.headers("return_partner", "partner-fedasil", None, organisation="fedasil")
    iom = case_app.headers("return_partner", "partner-iom", None, organisation="iom")
    before = (await case_app.client.get(f"/cases/{case_id}/documents", headers=fedasil)).json()

    shared = await post(case_app, f"/cases/{case_id}/documents/{document}/share", {})
    listed = (await case_app.client.get(f"/cases/{case_id}/documents", headers=fedasil)).json()
    link = (await case_app.client.post(f"/cases/{case_id}/documents/{document}/link", headers=fedasil)).json()
    viewed = await case_app.client.get(link["url"], headers=fedasil)
    not_shared = await case_app.client.post(
        f"/cases/{case_id}/documents/{kept_back.json()['id']}/link", headers=fedasil
    )
    other_partner = await case_app.client.get(f"/cases/{case_id}/documents", headers=iom)
    by_coach = (await case_app.client.get(f"/cases/{case_id}/documents", headers=coach)).json()
    await deliver(case_app, withdrawn(household, case_id, referral.referral_id))
    after_withdrawal = await case_app.client.get(link["url"], headers=fedasil)

    assert before == [] and shared.status_code == 202 and shared.json()["events"] == ["DocumentShared"]
    assert [d["document_id"] for d in listed] == [document] and listed[0]["shared_with"] == ["fedasil"]
    assert viewed.status_code == 200 and viewed.content == PDF
    assert not_shared.status_code == 404 and other_partner.status_code == 403
    assert [d["shared_with"] for d in by_coach] == [["fedasil"], []]
    assert after_withdrawal.status_code == 404


async def test_a_document_is_not_shared_when_no_partner_holds_a_referral(case_app):
    _, case_id = await open_case(case_app)
    added = await case_app.client.post(
        f"/cases/{case_id}/documents",
        params={"kind": "travel_document"},
        content=PDF,
        headers=case_app.headers() | {"content-type": "application/pdf"},
    )

    refused = await post(case_app, f"/cases/{case_id}/documents/{added.json()['id']}/share", {})

    assert refused.status_code == 409 and refused.json()["type"] == "urn:icam:problem:no-open-referral"


async def test_a_referral_not_made_is_noted_with_its_reason(case_app):
    household, case_id = await open_case(case_app)
    decision = await decided_for_return(case_app, case_id)

    await deliver(
        case_app,
        ReferralNotMade(
            household_id=household,
            case_id=case_id,
            decision_id=decision,
            reason=ReferralNotMadeReason.NO_CONSENT,
        ),
    )

    assert (await case_view(case_app, case_id))["referral_status"] == "not_made"
    timeline = await case_app.client.get(f"/cases/{case_id}/timeline", headers=case_app.headers())
    assert any("No referral made: no consent" in str(item) for item in timeline.json()["items"])


async def test_a_withdrawn_referral_reopens_the_outcome_for_a_revised_decision(case_app):
    household, case_id = await open_case(case_app)
    decision = await decided_for_return(case_app, case_id)
    referral = referred(household, case_id, decision)
    await deliver(case_app, referral)

    await deliver(case_app, withdrawn(household, case_id, referral.referral_id))

    case = await case_view(case_app, case_id)
    assert case["referral_status"] == "withdrawn" and case["outcome_reopened"] is True
    assert "outcome_reopened" in case["flags"]


@pytest.mark.parametrize("rejection_first", [True, False], ids=["rejection-first", "onward-referral-first"])
async def test_a_rejection_and_the_next_referral_converge_whichever_arrives_first(case_app, rejection_first):
    household, case_id = await open_case(case_app)
    decision = await decided_for_return(case_app, case_id)
    first = referred(household, case_id, decision)
    await deliver(case_app, first)
    rejection = ReferralRejected(
        household_id=household,
        referral_id=first.referral_id,
        case_id=case_id,
        partner="fedasil",
        reason="full",
    )
    onward = referred(household, case_id, decision).model_copy(
        update={"partner": "iom", "attempt": 2, "previous_referral_id": first.referral_id}
    )

    for event in (rejection, onward) if rejection_first else (onward, rejection):
        await deliver(case_app, event)

    case = await case_view(case_app, case_id)
    assert case["referral_status"] == "referred" and "referral_stalled" not in case["flags"]


async def test_a_suspended_trajectory_resumes_and_a_closed_one_takes_no_more_commands(case_app):
    _, case_id = await open_case(case_app)
    headers = case_app.headers()
    suspended = await case_app.client.post(
        f"/cases/{case_id}/suspend", json={"reason": "stay_procedure_started"}, headers=headers
    )
    assert suspended.status_code == 202, suspended.text

    resumed = await case_app.client.post(
        f"/cases/{case_id}/resume", json={"note": "stay procedure rejected"}, headers=headers
    )
    assert resumed.status_code == 202 and resumed.json()["events"] == ["TrajectoryResumed"]
    assert (await case_view(case_app, case_id))["status"] == "open"

    closed = await case_app.client.post(
        f"/cases/{case_id}/close", json={"reason": "lost_contact"}, headers=headers
    )
    assert closed.status_code == 202 and closed.json()["events"] == ["TrajectoryClosed"]
    view = await case_view(case_app, case_id)
    assert (view["status"], view["closure_reason"]) == ("closed", "lost_contact")
    again = await case_app.client.post(
        f"/cases/{case_id}/close", json={"reason": "lost_contact"}, headers=headers
    )
    assert again.status_code == 409 and again.json()["type"] == "urn:icam:problem:case-closed"


async def test_a_closure_for_another_reason_needs_a_text(case_app):
    _, case_id = await open_case(case_app)
    refused = await case_app.client.post(
        f"/cases/{case_id}/close", json={"reason": "other"}, headers=case_app.headers()
    )
    assert refused.status_code == 422 and refused.json()["field"] == "reason_text"


async def test_a_requested_dossier_element_is_recorded_as_received(case_app):
    _, case_id = await open_case(case_app)
    interview = {
        "occurred_at": (datetime.now(UTC) - timedelta(hours=1)).isoformat(),
        "kind": "intake",
        "language": "fr",
        "attendees": [ADULT],
        "interpreter_present": False,
        "missing_elements": [{"person_id": CHILD, "element": "birth_certificate"}],
    }
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview, headers=case_app.headers())
    [element] = (await case_view(case_app, case_id))["dossier_elements"]
    assert "elements_outstanding" in (await case_view(case_app, case_id))["flags"]

    received = await case_app.client.post(
        f"/cases/{case_id}/dossier-elements/{element['element_id']}/received",
        json={},
        headers=case_app.headers(),
    )

    assert received.status_code == 202 and received.json()["events"] == ["DossierElementReceived"]
    view = await case_view(case_app, case_id)
    assert view["dossier_elements"][0]["received_at"] is not None
    assert "elements_outstanding" not in view["flags"]
