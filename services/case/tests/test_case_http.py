"""The case service through HTTP, on real PostgreSQL (cases opened by the real reaction code)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from incoming import ADULT, CHILD, deliver, invitation_sent, recorded

from icam_contracts.events import InvitationResponseRecorded

pytestmark = pytest.mark.integration


def hours_ago(hours: float) -> str:
    return (datetime.now(UTC) - timedelta(hours=hours)).isoformat()


async def open_case(case_app, household: uuid.UUID | None = None) -> uuid.UUID:
    """A case opened by an invitation, assigned to coach-4711 in Brussels."""
    household = household or uuid.uuid4()
    first_contact = datetime.now(UTC) - timedelta(days=2)
    await deliver(case_app, recorded(invitation_sent(household), occurred_at=first_contact))
    async with case_app.service.pool.acquire() as conn:
        return await conn.fetchval("select case_id from open_cases where household_id = $1", household)


def interview(kind: str = "intake", **changes) -> dict:
    body = {
        "occurred_at": hours_ago(1),
        "kind": kind,
        "language": "fr",
        "attendees": [ADULT, CHILD],
        "interpreter_present": True,
        "interpreter_language": "ar",
        "topics": ["legal situation"],
    }
    return body | changes


def outcome(which: str = "return_accepted", **changes) -> dict:
    body = {
        "outcome": which,
        "rationale": "no ground for a stay application found in the file",
        "communicated": "voluntary return and reintegration support explained",
        "communicated_in": "fr",
        "consent_to_referral": True,
        "preferred_partner": "fedasil",
    }
    return body | changes


async def test_an_interview_is_recorded_and_the_caseload_shows_it_at_once(case_app):
    case_id = await open_case(case_app)
    missing = [{"person_id": CHILD, "element": "birth_certificate"}]
    response = await case_app.client.post(
        f"/cases/{case_id}/interviews", json=interview(missing_elements=missing), headers=case_app.headers()
    )
    assert response.status_code == 201, response.text
    accepted = response.json()
    assert accepted["events"] == ["InterviewHeld", "DossierElementRequested"]
    assert accepted["stream_version"] == 4 and accepted["position"] > 0
    load = await case_app.client.get(
        "/caseload",
        params={"coach": "coach-4711", "min_position": accepted["position"], "flag": "elements_outstanding"},
        headers=case_app.headers(),
    )
    row = next(i for i in load.json()["items"] if i["case_id"] == str(case_id))
    assert row["interviews_held"] == 1 and row["version"] == 4 and row["minors"] == 1


async def test_a_coach_finds_a_case_by_a_members_name_and_sees_who_is_in_it(case_app):
    case_id = await open_case(case_app)
    headers = case_app.headers()
    async with case_app.service.pool.acquire() as conn:
        position = await conn.fetchval("select max(global_position) from events")
    found = await case_app.client.get(
        "/caseload", params={"q": "YASM", "min_position": position}, headers=headers
    )
    assert str(case_id) in [i["case_id"] for i in found.json()["items"]]
    by_reference = await case_app.client.get("/caseload", params={"q": CHILD}, headers=headers)
    assert str(case_id) in [i["case_id"] for i in by_reference.json()["items"]]
    nobody = await case_app.client.get("/caseload", params={"q": "zz-no-such-name"}, headers=headers)
    assert str(case_id) not in [i["case_id"] for i in nobody.json()["items"]]
    members = (await case_app.client.get(f"/cases/{case_id}", headers=headers)).json()["members"]
    assert [m["given_name"] for m in members] == ["Amina", "Yasmine"]
    admin = case_app.headers(role="admin", subject="admin-1", region=None)
    seen_by_admin = (await case_app.client.get(f"/cases/{case_id}", headers=admin)).json()["members"]
    assert [m["given_name"] for m in seen_by_admin] == [None, None]
    assert [m["person_id"] for m in seen_by_admin] == [ADULT, CHILD]


async def test_the_full_trajectory_with_a_revision_keeps_both_decisions(case_app):
    case_id = await open_case(case_app)
    headers = case_app.headers()
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=headers)
    first = await case_app.client.post(f"/cases/{case_id}/outcome", json=outcome(), headers=headers)
    assert first.status_code == 201, first.text
    again = await case_app.client.post(
        f"/cases/{case_id}/outcome", json=outcome("legal_stay_possible"), headers=headers
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    assert again.json()["current_decision_id"] == first.json()["id"]
    revision = outcome(
        "legal_stay_possible",
        procedure_explained=True,
        stay_procedure_started=True,
        revises_decision_id=first.json()["id"],
        revision_reason="proof of a pending procedure handed in",
    )
    revised = await case_app.client.post(f"/cases/{case_id}/outcome", json=revision, headers=headers)
    assert revised.json()["events"] == ["OutcomeDecided", "TrajectorySuspended"]
    case = (await case_app.client.get(f"/cases/{case_id}", headers=headers)).json()
    assert [d["outcome"] for d in case["decisions"]] == ["return_accepted", "legal_stay_possible"]
    assert case["status"] == "suspended"


async def test_no_interview_on_a_suspended_case_409_names_its_state(case_app):
    case_id = await open_case(case_app)
    headers = case_app.headers()
    await case_app.client.post(f"/cases/{case_id}/suspend", json={"reason": "public_order"}, headers=headers)
    refused = await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=headers)
    assert refused.status_code == 409
    problem = refused.json()
    assert problem["case_status"] == "suspended" and problem["case_version"] == 3
    assert problem["type"] == "urn:icam:problem:case-suspended"


async def test_an_outcome_before_any_interview_is_refused(case_app):
    case_id = await open_case(case_app)
    refused = await case_app.client.post(
        f"/cases/{case_id}/outcome", json=outcome(), headers=case_app.headers()
    )
    assert (
        refused.status_code == 409 and refused.json()["type"] == "urn:icam:problem:outcome-before-interview"
    )


async def test_invalid_input_is_a_422_naming_the_field(case_app):
    case_id = await open_case(case_app)
    headers = case_app.headers()
    bad = await case_app.client.post(
        f"/cases/{case_id}/interviews", json=interview(kind="chat"), headers=headers
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "kind"
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=headers)
    c = await case_app.client.post(
        f"/cases/{case_id}/outcome", json=outcome("return_refused"), headers=headers
    )
    assert c.status_code == 422 and c.json()["field"] == "consequences_explained"


async def test_unknown_cases_and_elements_are_404(case_app):
    missing = await case_app.client.get(f"/cases/{uuid.uuid4()}", headers=case_app.headers())
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    case_id = await open_case(case_app)
    element = await case_app.client.post(
        f"/cases/{case_id}/dossier-elements/{uuid.uuid4()}/received", headers=case_app.headers()
    )
    assert element.status_code == 404


async def test_authorisation_is_checked_again_by_the_service(case_app):
    case_id = await open_case(case_app)
    client = case_app.client
    assert (await client.get(f"/cases/{case_id}")).status_code == 401
    other_region = case_app.headers(subject="coach-9", region="liege")
    assert (await client.get(f"/cases/{case_id}", headers=other_region)).status_code == 403
    colleague = case_app.headers(subject="coach-2")
    assert (await client.get(f"/cases/{case_id}", headers=colleague)).status_code == 200
    refused = await client.post(f"/cases/{case_id}/interviews", json=interview(), headers=colleague)
    assert refused.status_code == 403
    ops = case_app.headers(role="ops_viewer", subject="ops-1", region=None)
    assert (await client.get(f"/cases/{case_id}", headers=ops)).status_code == 403
    assert (await client.get("/caseload", headers=ops)).status_code == 403
    assert (await client.get("/stats/outcomes", headers=ops)).status_code == 200
    coach_assigns = await client.post(
        f"/cases/{case_id}/assign", json={"coach_id": "coach-2"}, headers=case_app.headers()
    )
    assert coach_assigns.status_code == 403


async def test_a_team_lead_reassigns_and_only_then_the_new_coach_records(case_app):
    case_id = await open_case(case_app)
    lead = case_app.headers(role="team_lead", subject="lead-bxl")
    assigned = await case_app.client.post(
        f"/cases/{case_id}/assign", json={"coach_id": "coach-2"}, headers=lead
    )
    assert assigned.status_code == 202, assigned.text
    new_coach = case_app.headers(subject="coach-2")
    held = await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=new_coach)
    assert held.status_code == 201
    old_coach = await case_app.client.post(
        f"/cases/{case_id}/suspend", json={"reason": "public_order"}, headers=case_app.headers()
    )
    assert old_coach.status_code == 403


async def test_a_transfer_moves_the_case_to_the_new_regions_team(case_app):
    case_id = await open_case(case_app)
    lead = case_app.headers(role="team_lead", subject="lead-bxl")
    wrong = await case_app.client.post(
        f"/cases/{case_id}/transfer", json={"to_region": "liege", "to_office": "ghent"}, headers=lead
    )
    assert wrong.status_code == 422 and wrong.json()["field"] == "to_office"
    moved = await case_app.client.post(
        f"/cases/{case_id}/transfer", json={"to_region": "liege", "to_office": "liege"}, headers=lead
    )
    assert moved.status_code == 202
    liege_lead = case_app.headers(role="team_lead", subject="lead-liege", region="liege")
    case = (await case_app.client.get(f"/cases/{case_id}", headers=liege_lead)).json()
    assert (case["region"], case["coach_id"]) == ("liege", None)
    assert (await case_app.client.get(f"/cases/{case_id}", headers=lead)).status_code == 403


async def test_vulnerability_details_are_need_to_know(case_app):
    case_id = await open_case(case_app)
    body = {"person_id": CHILD, "categories": ["serious_illness"], "details": "asthma, inhaler"}
    flagged = await case_app.client.post(
        f"/cases/{case_id}/vulnerabilities", json=body, headers=case_app.headers()
    )
    assert flagged.status_code == 201

    async def flags_seen_by(**who) -> list:
        case = (await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers(**who))).json()
        return next(m for m in case["members"] if m["person_id"] == CHILD)["vulnerabilities"]

    assert (await flags_seen_by())[0]["details"] == "asthma, inhaler"
    await case_app.client.post(
        f"/cases/{case_id}/interviews", json=interview(notes="asked about school"), headers=case_app.headers()
    )
    own = (await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers())).json()["interviews"]
    other = (
        await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers(subject="coach-2"))
    ).json()["interviews"]
    assert own[0]["notes"] == "asked about school" and other[0]["notes"] is None
    assert other[0]["sequence_number"] == 1 and other[0]["topics"] == ["legal situation"]
    assert (await flags_seen_by(role="team_lead", subject="lead-bxl"))[0]["details"] == "asthma, inhaler"
    colleague = (await flags_seen_by(subject="coach-2"))[0]
    assert colleague["categories"] == ["serious_illness"] and colleague["details"] is None
    assert await flags_seen_by(role="admin", subject="admin-1", region=None) == []
    auditor = await case_app.client.get(
        f"/cases/{case_id}", headers=case_app.headers(role="auditor", subject="audit-1", region=None)
    )
    assert auditor.status_code == 403  # the auditor reads the audit log, never a case


async def test_the_case_as_it_stood_at_a_given_time(case_app):
    case_id = await open_case(case_app)
    await asyncio.sleep(0.05)
    before_interview = datetime.now(UTC)
    await asyncio.sleep(0.05)
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=case_app.headers())
    then = await case_app.client.get(
        f"/cases/{case_id}", params={"as_of": before_interview.isoformat()}, headers=case_app.headers()
    )
    now = await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers())
    assert (then.json()["interviews_held"], then.json()["version"]) == (0, 2)
    assert now.json()["interviews_held"] == 1
    earlier = before_interview - timedelta(days=365)
    gone = await case_app.client.get(
        f"/cases/{case_id}", params={"as_of": earlier.isoformat()}, headers=case_app.headers()
    )
    assert gone.status_code == 404


async def test_the_timeline_tells_the_journey_in_order_in_plain_words(case_app):
    case_id = await open_case(case_app)
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=case_app.headers())
    page = (await case_app.client.get(f"/cases/{case_id}/timeline", headers=case_app.headers())).json()
    types = [e["event_type"] for e in page["items"]]
    assert types[0] == "InvitationSent" and "CaseOpened" in types and types[-1] == "InterviewHeld"
    sources = {e["event_type"]: e["source"] for e in page["items"]}
    assert sources["InvitationSent"] == "invitation" and sources["CaseOpened"] == "case"
    held = page["items"][-1]["text"]
    assert held.startswith("Intake interview #1 held in French, with an interpreter")
    assert "Amina" not in str(page)
    second = (
        await case_app.client.get(
            f"/cases/{case_id}/timeline", params={"limit": 1, "offset": 1}, headers=case_app.headers()
        )
    ).json()
    assert second["total"] == page["total"] and second["items"][0] == page["items"][1]


async def test_outcome_statistics_count_by_region_and_month_without_personal_data(case_app):
    ops = case_app.headers(role="ops_viewer", subject="ops-1", region=None)

    async def brussels_now() -> dict:
        rows = (
            await case_app.client.get("/stats/outcomes", params={"region": "brussels"}, headers=ops)
        ).json()["items"]
        month = datetime.now(UTC).date().replace(day=1).isoformat()
        return next(
            (r for r in rows if r["month"] == month), {"outcomes": {}, "closures": {}, "first_outcomes": 0}
        )

    before = await brussels_now()
    case_id = await open_case(case_app)
    headers = case_app.headers()
    await case_app.client.post(
        f"/cases/{case_id}/interviews",
        json=interview(),
        headers=headers,
    )
    proposed = await case_app.client.post(
        f"/cases/{case_id}/outcome",
        json=outcome("return_refused", consequences_explained=True),
        headers=headers,
    )
    decision = proposed.json()["id"]
    await case_app.client.post(
        f"/cases/{case_id}/outcome/{decision}/approve", headers=case_app.headers("team_lead", "lead-bxl")
    )
    after = await brussels_now()
    assert after["outcomes"].get("return_refused", 0) == before["outcomes"].get("return_refused", 0) + 1
    assert after["closures"].get("return_refused", 0) == before["closures"].get("return_refused", 0) + 1
    assert after["first_outcomes"] == before["first_outcomes"] + 1
    assert after["average_days_to_outcome"] is not None
    assert "8123456" not in str(after) and "coach-4711" not in str(after)


async def test_rebuilt_read_models_equal_the_live_ones(case_app):
    from icam_kernel.projections import rebuild

    case_id = await open_case(case_app)
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=case_app.headers())
    service = case_app.service
    queries = {
        "caseload": "select * from caseload order by case_id",
        "outcome_counts": "select * from outcome_counts order by region, month, kind, value",
        "time_to_outcome": "select * from time_to_outcome order by region, month",
    }

    async def snapshot() -> dict:
        async with service.pool.acquire() as conn:
            rows = {name: [dict(r) for r in await conn.fetch(sql)] for name, sql in queries.items()}
        for row in rows["caseload"]:
            row.pop("updated_at")
        return rows

    live = await snapshot()
    for projection in service.store.inline_projections:
        await rebuild(service.pool, projection, service.store)
    assert await snapshot() == live


async def test_the_service_is_ready_when_database_and_broker_answer(case_app):
    ready = await case_app.client.get("/health/ready")
    assert ready.status_code == 200, ready.text


async def test_an_interview_sent_twice_with_the_same_id_is_recorded_once(case_app):
    case_id = await open_case(case_app)
    body = interview(interview_id=str(uuid.uuid4()))

    first = await case_app.client.post(f"/cases/{case_id}/interviews", json=body, headers=case_app.headers())
    again = await case_app.client.post(f"/cases/{case_id}/interviews", json=body, headers=case_app.headers())
    case = (await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers())).json()

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert case["interviews_held"] == 1


async def test_the_same_interview_id_with_another_interview_is_refused(case_app):
    case_id = await open_case(case_app)
    interview_id = str(uuid.uuid4())
    await case_app.client.post(
        f"/cases/{case_id}/interviews", json=interview(interview_id=interview_id), headers=case_app.headers()
    )

    other = await case_app.client.post(
        f"/cases/{case_id}/interviews",
        json=interview(kind="follow_up", interview_id=interview_id),
        headers=case_app.headers(),
    )

    assert other.status_code == 422
    assert other.json()["type"] == "urn:icam:problem:idempotency-key-reused"
    assert other.json()["field"] == "interview_id"


async def test_an_idempotency_key_makes_any_command_safe_to_retry(case_app):
    case_id = await open_case(case_app)
    headers = case_app.headers() | {"Idempotency-Key": str(uuid.uuid4())}
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=case_app.headers())

    first = await case_app.client.post(
        f"/cases/{case_id}/suspend", json={"reason": "public_order"}, headers=headers
    )
    again = await case_app.client.post(
        f"/cases/{case_id}/suspend", json={"reason": "public_order"}, headers=headers
    )

    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"


async def test_malformed_json_is_a_problem_naming_line_and_column(case_app):
    case_id = await open_case(case_app)

    response = await case_app.client.post(
        f"/cases/{case_id}/suspend",
        content=b'{\n  "reason": "public_order",\n  oops\n}',
        headers=case_app.headers() | {"content-type": "application/json"},
    )

    assert response.status_code == 422
    problem = response.json()
    assert problem["type"] == "urn:icam:problem:malformed-json"
    assert (problem["line"], problem["column"]) == (3, 3)


async def test_a_page_offset_past_any_integer_is_a_422_problem(case_app):
    response = await case_app.client.get(
        "/caseload", params={"offset": "9223372036854775808"}, headers=case_app.headers()
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == "query.offset"


async def test_outcome_c_takes_effect_only_once_another_person_approved_it(case_app):
    case_id = await open_case(case_app)
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=case_app.headers())
    lead = case_app.headers("team_lead", "lead-bxl")

    proposed = await case_app.client.post(
        f"/cases/{case_id}/outcome", json=outcome("return_refused", consequences_explained=True), headers=lead
    )
    pending = (await case_app.client.get(f"/cases/{case_id}", headers=lead)).json()
    by_proposer = await case_app.client.post(
        f"/cases/{case_id}/outcome/{proposed.json()['id']}/approve", headers=lead
    )
    by_coach = await case_app.client.post(
        f"/cases/{case_id}/outcome/{proposed.json()['id']}/approve", headers=case_app.headers()
    )
    approved = await case_app.client.post(
        f"/cases/{case_id}/outcome/{proposed.json()['id']}/approve",
        headers=case_app.headers("team_lead", "lead-2"),
    )
    closed = (await case_app.client.get(f"/cases/{case_id}", headers=lead)).json()

    assert proposed.json()["events"] == ["OutcomeProposed"]
    assert (
        pending["status"] == "open" and pending["decisions"] == [] and "approval_pending" in pending["flags"]
    )
    assert (
        by_proposer.status_code == 422 and by_proposer.json()["type"] == "urn:icam:problem:four-eyes-required"
    )
    assert by_coach.status_code == 403
    assert approved.json()["events"] == ["OutcomeApproved", "OutcomeDecided", "TrajectoryClosed"]
    assert closed["status"] == "closed" and closed["decisions"][0]["outcome"] == "return_refused"


async def test_a_proposal_sent_back_leaves_the_case_open_for_another_decision(case_app):
    case_id = await open_case(case_app)
    coach, lead = case_app.headers(), case_app.headers("team_lead", "lead-bxl")
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=coach)
    proposed = await case_app.client.post(
        f"/cases/{case_id}/outcome",
        json=outcome("return_refused", consequences_explained=True),
        headers=coach,
    )
    blocked = await case_app.client.post(f"/cases/{case_id}/outcome", json=outcome(), headers=coach)

    sent_back = await case_app.client.post(
        f"/cases/{case_id}/outcome/{proposed.json()['id']}/reject",
        json={"reason": "explain with an interpreter"},
        headers=lead,
    )
    decided = await case_app.client.post(f"/cases/{case_id}/outcome", json=outcome(), headers=coach)

    assert blocked.status_code == 409 and blocked.json()["type"] == "urn:icam:problem:approval-pending"
    assert sent_back.json()["events"] == ["OutcomeProposalRejected"]
    assert decided.status_code == 201 and decided.json()["events"] == ["OutcomeDecided"]


async def test_a_birth_adds_a_member_and_a_departure_keeps_their_record(case_app):
    case_id = await open_case(case_app)
    coach = case_app.headers()
    born = {
        "person_id": "8123499",
        "role": "minor",
        "change": "birth",
        "given_name": "Nour",
        "birth_date": "2026-11-20",
    }

    added = await case_app.client.post(f"/cases/{case_id}/members", json=born, headers=coach)
    again = await case_app.client.post(f"/cases/{case_id}/members", json=born, headers=coach)
    left = await case_app.client.post(
        f"/cases/{case_id}/members/{ADULT}/left", json={"change": "left"}, headers=coach
    )
    case = (await case_app.client.get(f"/cases/{case_id}", headers=coach)).json()

    assert (added.status_code, again.status_code) == (201, 201) and again.headers[
        "idempotent-replayed"
    ] == "true"
    assert left.json()["events"] == ["HouseholdMemberLeft"]
    assert [m["person_id"] for m in case["members"]] == [ADULT, CHILD, "8123499"]


async def test_the_task_list_follows_the_facts_of_the_case(case_app):
    household = uuid.uuid4()
    sent = invitation_sent(household)
    await deliver(case_app, recorded(sent, occurred_at=datetime.now(UTC) - timedelta(days=5)))
    async with case_app.app.state.application.pool.acquire() as conn:
        case_id = await conn.fetchval("select case_id from open_cases where household_id = $1", household)

    async def tasks(**who) -> list[str]:
        page = (await case_app.client.get("/tasks", headers=case_app.headers(**who))).json()
        return sorted(t["kind"] for t in page["items"] if t["case_id"] == str(case_id))

    before = await tasks()
    answer = InvitationResponseRecorded(
        household_id=household, invitation_id=sent.invitation_id, response="confirmed"
    )
    await deliver(case_app, recorded(answer))
    answered = await tasks()
    await case_app.client.post(f"/cases/{case_id}/interviews", json=interview(), headers=case_app.headers())
    after = await tasks()
    overdue = (
        await case_app.client.get(
            "/tasks/overdue-by-coach", headers=case_app.headers("team_lead", "lead-bxl")
        )
    ).json()

    assert before == ["interview_due", "invitation_unanswered"]
    assert answered == ["interview_due"] and after == []
    assert await tasks(subject="coach-2") == []  # another coach's work is not on my list
    assert all({"coach_id", "open", "overdue", "overdue_by_kind"} <= set(row) for row in overdue)


async def test_a_team_lead_hands_a_leaving_coachs_cases_to_a_colleague_case_by_case(case_app):
    lead = case_app.headers("team_lead", "lead-bxl")
    mine = [await open_case(case_app) for _ in range(3)]
    colleague_case = uuid.uuid4()
    await deliver(case_app, recorded(invitation_sent(colleague_case, coach="coach-colleague")))
    body = {"case_ids": [str(c) for c in mine], "to_coach": "coach-colleague"}

    clashing = await case_app.client.post("/moves/reassignment", json=body, headers=lead)
    unchanged = (await case_app.client.get(f"/cases/{mine[0]}", headers=lead)).json()["coach_id"]
    moved = await case_app.client.post("/moves/reassignment", json=body | {"confirm": True}, headers=lead)
    again = await case_app.client.post("/moves/reassignment", json=body | {"confirm": True}, headers=lead)

    assert clashing.status_code == 409 and clashing.json()["type"] == "urn:icam:problem:agenda-conflicts"
    assert clashing.json()["conflicts"] and unchanged == "coach-4711"
    assert [m["case_id"] for m in moved.json()["moved"]] == [str(c) for c in mine]
    assert moved.json()["conflicts"] and moved.json()["failed"] == []
    assert {f["type"] for f in again.json()["failed"]} == {"case-state-conflict"}  # already theirs


async def test_a_bulk_move_to_a_coach_of_another_region_moves_nothing(case_app):
    lead = case_app.headers("team_lead", "lead-bxl")
    case_id = await open_case(case_app)
    elsewhere = uuid.uuid4()
    sent = invitation_sent(elsewhere, coach="coach-liege").model_copy(
        update={"region": "liege", "office": "liege"}
    )
    await deliver(case_app, recorded(sent))

    refused = await case_app.client.post(
        "/moves/reassignment", json={"case_ids": [str(case_id)], "to_coach": "coach-liege"}, headers=lead
    )
    unknown = await case_app.client.post(
        "/moves/reassignment", json={"case_ids": [str(case_id)], "to_coach": "coach-nobody"}, headers=lead
    )

    assert refused.status_code == 422 and refused.json()["type"] == "urn:icam:problem:coach-of-another-region"
    assert unknown.status_code == 422 and unknown.json()["field"] == "to_coach"
    assert (await case_app.client.get(f"/cases/{case_id}", headers=lead)).json()["coach_id"] == "coach-4711"


async def test_a_bulk_transfer_lists_the_cases_that_could_not_go(case_app):
    lead = case_app.headers("team_lead", "lead-bxl")
    mine = await open_case(case_app)
    theirs = uuid.uuid4()
    sent = invitation_sent(theirs, coach="coach-liege").model_copy(
        update={"region": "liege", "office": "liege"}
    )
    await deliver(case_app, recorded(sent))
    async with case_app.app.state.application.pool.acquire() as conn:
        foreign = await conn.fetchval("select case_id from open_cases where household_id = $1", theirs)

    report = await case_app.client.post(
        "/moves/transfer",
        json={"case_ids": [str(mine), str(foreign)], "to_region": "liege", "to_office": "liege"},
        headers=lead,
    )

    assert [m["case_id"] for m in report.json()["moved"]] == [str(mine)]
    assert [(f["case_id"], f["type"]) for f in report.json()["failed"]] == [(str(foreign), "forbidden")]


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


async def test_a_document_is_kept_on_the_file_and_viewed_through_a_short_lived_link(case_app):
    case_id = await open_case(case_app)
    missing = [{"person_id": CHILD, "element": "birth_certificate"}]
    await case_app.client.post(
        f"/cases/{case_id}/interviews", json=interview(missing_elements=missing), headers=case_app.headers()
    )
    case = (await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers())).json()
    element = case["dossier_elements"][0]["element_id"]
    coach = case_app.headers() | {"content-type": "application/pdf"}

    added = await case_app.client.post(
        f"/cases/{case_id}/documents",
        params={"kind": "birth_certificate", "person_id": CHILD, "element_id": element},
        content=PDF,
        headers=coach,
    )
    link = (
        await case_app.client.post(
            f"/cases/{case_id}/documents/{added.json()['id']}/link", headers=case_app.headers()
        )
    ).json()
    viewed = await case_app.client.get(link["url"], headers=case_app.headers())
    by_another = await case_app.client.get(link["url"], headers=case_app.headers(subject="coach-2"))
    listed = (await case_app.client.get(f"/cases/{case_id}/documents", headers=case_app.headers())).json()
    after = (await case_app.client.get(f"/cases/{case_id}", headers=case_app.headers())).json()

    assert added.status_code == 201 and added.json()["events"] == ["DocumentAdded", "DossierElementReceived"]
    assert viewed.status_code == 200 and viewed.content == PDF
    assert (
        viewed.headers["content-type"] == "application/pdf" and viewed.headers["cache-control"] == "no-store"
    )
    assert (
        by_another.status_code == 403
        and by_another.json()["type"] == "urn:icam:problem:document-link-invalid"
    )
    assert [d["kind"] for d in listed] == ["birth_certificate"] and after["dossier_elements"][0][
        "received_at"
    ]


async def test_a_document_is_judged_by_its_bytes_and_its_size(case_app):
    case_id = await open_case(case_app)
    coach = case_app.headers() | {"content-type": "application/pdf"}

    forged = await case_app.client.post(
        f"/cases/{case_id}/documents",
        params={"kind": "decision"},
        content=b"MZ\x90\x00 not a pdf at all",
        headers=coach,
    )
    png = await case_app.client.post(
        f"/cases/{case_id}/documents", params={"kind": "decision"}, content=PNG, headers=coach
    )
    huge = await case_app.client.post(
        f"/cases/{case_id}/documents",
        params={"kind": "decision"},
        content=PDF + b"0" * (20 * 1024 * 1024),
        headers=coach,
    )
    events = (await case_app.client.get(f"/cases/{case_id}/timeline", headers=case_app.headers())).json()[
        "items"
    ]

    assert forged.status_code == 422 and forged.json()["type"] == "urn:icam:problem:unsupported-document-type"
    assert png.status_code == 201  # a PNG sent as "application/pdf" is kept as what it is
    assert huge.status_code == 413
    assert [e["event_type"] for e in events].count("DocumentAdded") == 1


async def test_an_expired_link_and_a_removed_document_show_nothing(case_app):
    from icam_case.documents import Links

    case_id = await open_case(case_app)
    added = await case_app.client.post(
        f"/cases/{case_id}/documents",
        params={"kind": "signed_consent"},
        content=PDF,
        headers=case_app.headers() | {"content-type": "application/pdf"},
    )
    document = added.json()["id"]
    links = case_app.app.state.document_links
    token, _ = Links(links.key, lifetime_seconds=-1).token(uuid.UUID(document), "coach-4711")
    expired = await case_app.client.get(
        f"/cases/{case_id}/documents/{document}/content", params={"token": token}, headers=case_app.headers()
    )
    link = (
        await case_app.client.post(f"/cases/{case_id}/documents/{document}/link", headers=case_app.headers())
    ).json()
    removed = await case_app.client.post(
        f"/cases/{case_id}/documents/{document}/remove",
        json={"reason": "wrong file"},
        headers=case_app.headers(),
    )
    gone = await case_app.client.get(link["url"], headers=case_app.headers())

    assert expired.status_code == 403
    assert removed.json()["events"] == ["DocumentRemoved"] and gone.status_code == 404
