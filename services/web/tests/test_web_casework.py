"""The pure parts of the case-work screens: the duplicate warning's reasons and the `match` it
sends, a document upload read into memory (bounded), the bodies of household changes and bulk
moves, and the small formats those screens use."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest
from starlette.datastructures import FormData
from starlette.requests import Request

from icam_auth import Role
from icam_web import duplicates, i18n, pages, problems
from icam_web.routes.case_file import sent_back, why_missing
from icam_web.routes.members import member_body
from icam_web.routes.moves import move_of
from icam_web.sessions import Session
from icam_web.uploads import NotAnUpload, read_upload

pytestmark = pytest.mark.unit
HOUSEHOLD = "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10"


def echo(message: str, **values: object) -> str:
    return message % values if values else message


def test_the_duplicate_check_asks_only_about_what_is_known_of_each_member() -> None:
    members = [
        {"role": "adult", "person_id": "OE1", "given_name": "Amina", "family_name": "Example", "contact": {}},
        {"role": "minor", "person_id": "OE2", "birth_date": "2019-04-02", "given_name": None},
        {"role": "minor"},
    ]
    assert duplicates.people_of(members) == [
        {"person_id": "OE1", "given_name": "Amina", "family_name": "Example"},
        {"person_id": "OE2", "birth_date": "2019-04-02"},
    ]


def test_the_reasons_are_said_in_the_coachs_language_and_keep_their_figure() -> None:
    dutch = i18n.Language("nl")
    assert duplicates.reason_text("similar name (0.93)", dutch.gettext) == "gelijkaardige naam (0.93)"
    assert duplicates.reason_text("same dossier reference", dutch.gettext) == "zelfde dossierreferentie"
    assert duplicates.reason_text("something new", dutch.gettext) == "something new"


def test_linking_sends_the_household_shown_and_a_new_household_sends_none() -> None:
    linked = FormData([("match_candidates", HOUSEHOLD), ("match", HOUSEHOLD)])
    fresh = FormData([("match_candidates", HOUSEHOLD), ("match", "new")])
    undecided = FormData([("match_candidates", HOUSEHOLD)])
    assert duplicates.match_of(linked) == {"candidates": [HOUSEHOLD], "linked_to": HOUSEHOLD}
    assert duplicates.match_of(fresh) == {"candidates": [HOUSEHOLD], "linked_to": None}
    assert duplicates.match_of(FormData([])) is None
    assert duplicates.decided(linked) and duplicates.decided(fresh) and not duplicates.decided(undecided)


async def _chunks(body: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def _multipart(content: bytes, **fields: str) -> tuple[str, bytes]:
    boundary = "icamboundary"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
        for k, v in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="scan.pdf"\r\n'
        "Content-Type: application/pdf\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    return f"multipart/form-data; boundary={boundary}", b"".join(parts) + f"--{boundary}--\r\n".encode()


async def test_an_upload_is_read_into_memory_with_its_fields() -> None:
    kind, body = _multipart(b"%PDF-1.4 tiny", csrf_token="t0ken", kind="travel_document")
    upload = await read_upload(kind, _chunks(body), limit=100)
    assert upload.fields == {"csrf_token": "t0ken", "kind": "travel_document"}
    assert (upload.filename, upload.content_type, upload.data) == (
        "scan.pdf",
        "application/pdf",
        b"%PDF-1.4 tiny",
    )


async def test_a_file_over_the_limit_keeps_one_byte_more_so_that_the_service_refuses_it() -> None:
    kind, body = _multipart(b"x" * 500, kind="other")
    upload = await read_upload(kind, _chunks(body, 64), limit=100)
    assert len(upload.data) == 101 and upload.size == 500


async def test_a_body_that_is_not_a_form_upload_is_refused() -> None:
    with pytest.raises(NotAnUpload):
        await read_upload("application/json", _chunks(b"{}"), limit=100)


def test_a_new_member_is_sent_without_empty_fields_and_with_an_upper_case_nationality() -> None:
    form = FormData(
        [("person_id", "OE9"), ("role", "minor"), ("change", "birth"), ("given_name", " Nour "),
         ("family_name", ""), ("birth_date", "2026-11-20"), ("nationality", "ma")]
    )  # fmt: skip
    assert member_body(form) == {
        "person_id": "OE9",
        "role": "minor",
        "change": "birth",
        "given_name": "Nour",
        "birth_date": "2026-11-20",
        "nationality": "MA",
    }


def test_a_reassignment_asks_without_confirm_first_and_a_transfer_names_the_office() -> None:
    first = FormData([("case_ids", "a"), ("case_ids", "b"), ("to_coach", "coach-2"), ("action", "reassign")])
    again = FormData([("case_ids", "a"), ("to_coach", "coach-2"), ("confirm", "yes")])
    transfer = FormData(
        [("case_ids", "a"), ("action", "transfer"), ("to_region", "liege"), ("to_office", "liege")]
    )
    assert move_of(first) == (
        "/api/moves/reassignment",
        {"case_ids": ["a", "b"], "to_coach": "coach-2", "confirm": False},
    )
    assert move_of(again)[1]["confirm"] is True
    assert move_of(transfer) == (
        "/api/moves/transfer",
        {"case_ids": ["a"], "to_region": "liege", "to_office": "liege"},
    )


def test_a_section_the_composed_view_could_not_fill_says_why() -> None:
    view = {
        "unavailable": [{"section": "referrals", "status": 503}, {"section": "invitations", "status": 403}]
    }
    assert why_missing(view, "referrals") == "unavailable"
    assert why_missing(view, "invitations") == "refused"
    assert why_missing(view, "timeline") is None


def test_the_case_file_shows_a_proposal_sent_back_only_until_the_next_step() -> None:
    back = {"event_type": "OutcomeProposalRejected", "text": "sent back"}
    proposed = {"event_type": "OutcomeProposed", "text": "proposed"}
    assert sent_back([proposed, back]) == back
    assert sent_back([proposed, back, proposed]) is None
    assert sent_back([]) is None


def test_a_field_the_errors_already_name_is_not_repeated_in_the_summary() -> None:
    problem = {"detail": "Invalid fields: query.kind", "field": "query.kind",
               "errors": [{"field": "query.kind", "message": "Field required"}]}  # fmt: skip
    view = problems.view_of(422, problem, echo, {"kind"})
    assert (
        view.fields == {"kind": "Enter a value."}
        and view.summary == "Something went wrong. Check the form and try again."
    )


def test_the_menu_marks_the_longest_entry_a_page_belongs_to() -> None:
    entries = ["/team", "/team/approvals", "/team/moves", "/cases"]
    assert pages.current_entry("/team/moves", entries) == "/team/moves"
    assert pages.current_entry("/team", entries) == "/team"
    assert pages.current_entry("/cases/1/approval", entries) == "/cases"
    assert pages.current_entry("/agenda", entries) is None


def test_file_sizes_are_written_per_language() -> None:
    assert i18n.Language("en").size(820 * 1024) == "820 kB"
    assert i18n.Language("fr").size(3 * 1024 * 1024 + 400 * 1024) == "3,4 MB"
    assert i18n.Language("nl").size(10) == "1 kB"


def test_a_problem_of_a_known_kind_is_said_in_the_persons_language() -> None:
    four_eyes = {
        "type": "urn:icam:problem:four-eyes-required",
        "detail": "an outcome is approved by another person than the one who proposed it",
        "field": "decision_id",
    }
    french = i18n.Language("fr").gettext
    view = problems.view_of(422, four_eyes, french, {"approve"}, {"decision_id": "approve"})
    assert view.fields["approve"].startswith("Vous avez proposé cette issue")
    too_large = {"type": "urn:icam:problem:payload-too-large", "detail": "the body is over the limit"}
    assert problems.view_of(413, too_large, echo).summary == "The file is over the limit of 20 MB."
    other = {"type": "urn:icam:problem:case-rule-violation", "detail": "say why"}
    assert problems.view_of(422, other, echo).summary == "Say why."  # the service's sentence
    assert (
        problems.said("coach-of-another-region", "x", i18n.Language("nl").gettext)
        != (problems.KINDS["coach-of-another-region"])
    )


def test_the_move_report_lists_each_case_that_could_not_move_with_the_reason() -> None:
    state = SimpleNamespace(
        templates=pages.environment(), settings=SimpleNamespace(default_language="fr", mailbox_url=None)
    )
    scope = {
        "type": "http", "method": "POST", "path": "/team/moves", "query_string": b"",
        "headers": [(b"accept-language", b"nl")], "app": SimpleNamespace(state=state),
    }  # fmt: skip
    lead = Session("lead", Role.TEAM_LEAD, "liege", None, "Kim", "token", "csrf", datetime.now(UTC))
    report = {
        "moved": [{"case_id": "11111111-aaaa", "position": 7}],
        "failed": [{"case_id": "22222222-bbbb", "reason": "case closed", "type": "case-closed"},
                   {"case_id": "33333333-cccc", "reason": "something else", "type": "conflict"}],
        "conflicts": [],
    }  # fmt: skip
    html = pages.render(
        Request(scope), "move_report.html", lead, report=report, move={"to_coach": "demo-coach-liege-2"}
    ).body.decode()
    assert "1 dossier verplaatst · 2 dossiers konden niet worden verplaatst" in html
    assert "22222222</a> — Het dossier is afgesloten" in html  # a known kind, in Dutch
    assert "33333333</a> — Something else." in html  # any other: the service's words
    assert 'href="/cases/11111111-aaaa?min_position=7"' in html
