"""The data-protection officer's screens, their pure parts: the erasure order and hold as the privacy
service takes them, its problems next to the fields they name and in the person's language, the
subject-access export as a summary per service, and every screen's template rendered."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.datastructures import FormData

from icam_auth import Role
from icam_contracts.enums import ErasureBasis
from icam_web import i18n, pages
from icam_web.labels import LABELS
from icam_web.routes import privacy

pytestmark = pytest.mark.unit
ERASURE = "0b8e4c6e-5a51-4d6c-9d0e-3d0d6c1f0a11"
HOUSEHOLD = "5f0c3a4e-2b1d-4e8f-9a6b-7c8d9e0f1a2b"


def echo(message: str, **values: object) -> str:
    return message % values if values else message


def test_the_erasure_order_leaves_empty_fields_out_for_the_service_to_name() -> None:
    form = FormData([("person_id", " OE-1234567 "), ("legal_basis", "objection"), ("order_reference", "")])
    assert privacy.erasure_body(form) == {"person_id": "OE-1234567", "legal_basis": "objection"}
    assert privacy.erasure_body(FormData([("person_id", "OE-1"), ("legal_basis", "")])) == {
        "person_id": "OE-1"
    }
    hold = privacy.hold_body(HOUSEHOLD, FormData([("basis", " appeal pending "), ("order_reference", "")]))
    assert hold == {"household_id": HOUSEHOLD, "basis": "appeal pending", "order_reference": None}
    assert "basis" not in privacy.hold_body(HOUSEHOLD, FormData([("basis", " ")]))


def test_every_legal_basis_has_plain_words_and_a_translation() -> None:
    assert set(LABELS["erasure_basis"]) == {b.value for b in ErasureBasis}
    french = dict(privacy.basis_options(i18n.Language("fr").gettext))
    assert all(french[b.value] != LABELS["erasure_basis"][b.value] for b in ErasureBasis)


def test_an_unknown_person_is_named_on_the_dossier_reference_in_the_persons_language() -> None:
    problem = {
        "type": "urn:icam:problem:unknown-person",
        "status": 404,
        "detail": "no household of the platform names this dossier reference",
        "field": "person_id",
    }
    view = privacy.problem_view(404, problem, i18n.Language("en").gettext, privacy.ERASURE_FIELDS)
    assert view.fields == {"person_id": "No household of the platform has this dossier reference."}
    assert view.summary == "Check the order: the field marked says what is wrong." or view.summary == ""
    dutch = privacy.problem_view(404, problem, i18n.Language("nl").gettext, privacy.ERASURE_FIELDS)
    assert dutch.fields["person_id"] != view.fields["person_id"]


def test_a_second_order_names_the_first_erasure_to_link_to() -> None:
    problem = {
        "type": "urn:icam:problem:already-erased",
        "status": 409,
        "detail": "this person was erased before",
        "erasure_id": ERASURE,
        "receipt": f"/erasures/{ERASURE}",
    }
    view = privacy.problem_view(409, problem, echo, privacy.ERASURE_FIELDS)
    assert view.fields == {"person_id": privacy.KNOWN_PROBLEMS["already-erased"][1]}
    assert view.details["erasure_id"] == ERASURE


def test_a_missing_legal_basis_and_a_malformed_reference_are_said_for_what_they_are() -> None:
    problem = {
        "type": "urn:icam:problem:validation",
        "status": 422,
        "errors": [
            {"field": "body.legal_basis", "message": "Field required"},
            {"field": "body.order_reference", "message": "String should match pattern '^[A-Za-z0-9]'"},
        ],
    }
    view = privacy.problem_view(422, problem, echo, privacy.ERASURE_FIELDS)
    assert view.fields == {"legal_basis": privacy.MISSING["legal_basis"], "order_reference": privacy.PATTERN}
    assert view.summary == ""


def test_a_released_hold_is_said_in_the_summary() -> None:
    problem = {"type": "urn:icam:problem:hold-already-released", "status": 409, "detail": "released"}
    view = privacy.problem_view(409, problem, echo, ())
    assert view.summary == "This hold was released already." and not view.fields


EXPORT: dict[str, Any] = {
    "person_id": "OE-7",
    "exported_at": "2026-03-02T09:00:00+00:00",
    "privacy": {
        "households": [{"household_id": HOUSEHOLD, "case_open": True}],
        "data_keys": [{"key_id": "k1", "subject": "person:OE-7", "destroyed_at": None}],
        "holds": [],
    },
    "services": {
        "case": {
            "service": "case",
            "household_ids": [HOUSEHOLD],
            "events": [
                {
                    "occurred_at": "2026-03-01T10:00:00+00:00",
                    "event_type": "CaseOpened",
                    "data": {
                        "members": [{"given_name": "Zhyldyz", "roles": ["adult"]}],
                        "region": "brussels",
                    },
                }
            ],
            "stores": {"case_view": [{"case_id": "c1", "members": [{"given_name": "Zhyldyz"}]}], "empty": []},
        },
        "referral": {"unavailable": "HTTP 503"},
    },
}


def test_the_export_becomes_a_summary_per_service_with_each_events_words() -> None:
    sections = privacy.summary_of(EXPORT)
    assert [s["service"] for s in sections] == ["privacy", "case", "referral"]
    assert sections[0]["households"] == [HOUSEHOLD] and set(sections[0]["stores"]) == {
        "households",
        "data_keys",
    }
    case = sections[1]
    assert case["events"][0]["says"] == [
        ("members.0.given_name", "Zhyldyz"),
        ("members.0.roles", "adult"),
        ("region", "brussels"),
    ]
    assert list(case["stores"]) == ["case_view"]  # a store with no row is left out
    assert sections[2]["unavailable"] == "HTTP 503"
    assert (
        privacy.cell([{"given_name": "Zhyldyz"}]) == '[{"given_name": "Zhyldyz"}]'
        and privacy.cell(None) == ""
    )


def test_the_dpo_lands_on_the_erasures_and_the_auditor_may_read_receipts_and_key_access() -> None:
    assert pages.home_of(Role.DATA_PROTECTION_OFFICER) == "/erasures"
    dpo = [href for href, _ in pages.MENUS[Role.DATA_PROTECTION_OFFICER]]
    assert dpo == ["/erasures", "/retention", "/subjects", "/key-access"]
    assert {"/erasures", "/key-access"} <= {href for href, _ in pages.MENUS[Role.AUDITOR]}


class _Session:
    role = Role.DATA_PROTECTION_OFFICER
    name = "Dani Exemple"
    scope = ""
    csrf_token = "token-1"


def render(template: str, **context: Any) -> str:
    lang = i18n.Language("fr")

    def label(kind: str, code: Any) -> str:
        text = LABELS.get(kind, {}).get(str(code))
        return lang.gettext(text) if text else str(code)

    values = {
        "session": _Session(),
        "lang": lang,
        "_": lang.gettext,
        "ngettext": lang.ngettext,
        "label": label,
        "menu": [],
        "languages": [],
        "csrf_token": "token-1",
        "current_url": "/",
        "problem": None,
        "done": "",
        "cleared_drafts": "",
        **context,
    }
    return pages.environment().get_template(template).render(values)


RECEIPT = {
    "erasure_id": ERASURE,
    "person_ids": ["OE-7"],
    "household_ids": [HOUSEHOLD],
    "legal_basis": "purpose_ended",
    "ordered_by": "demo-dpo",
    "order_reference": "DPO-7",
    "erased_at": "2026-03-02T09:00:00+00:00",
    "keys_destroyed": 2,
    "status": "in_progress",
    "awaiting": ["referral"],
    "stores": [
        {"service": "case", "store": "case_view", "rows": 3, "purged_at": "2026-03-02T09:00:01+00:00"}
    ],
}


def test_every_screen_renders_with_its_csrf_token_and_the_receipt_polls_until_complete() -> None:
    bases = privacy.basis_options(i18n.Language("fr").gettext)
    order = render("erasure_new.html", values={}, bases=bases)
    assert 'name="csrf_token" value="token-1"' in order and 'action="/erasures/confirm"' in order
    confirm = render(
        "erasure_confirm.html",
        order={"person_id": "OE-7", "legal_basis": "objection"},
        basis_label="x",
        back="/erasures/new?person_id=OE-7",
    )
    assert 'name="csrf_token" value="token-1"' in confirm and 'value="OE-7"' in confirm
    polling = render("erasure_receipt.html", receipt=RECEIPT, poll=2, rows=3)
    assert f'hx-get="/erasures/{ERASURE}"' in polling and "every 2s" in polling and "case_view" in polling
    done = render("_receipt.html", receipt={**RECEIPT, "status": "complete", "awaiting": []}, poll=2, rows=3)
    assert "hx-get" not in done
    assert "OE-7" in render("erasures.html", receipts=[RECEIPT], limit=200)
    retention = render(
        "retention.html",
        schedule=[
            {
                "household_id": HOUSEHOLD,
                "members": 2,
                "case_open": False,
                "closed_at": "2026-01-01T00:00:00Z",
                "last_contact_at": "2026-01-01T00:00:00Z",
                "held": True,
                "erase_on": "2026-07-01T00:00:00Z",
            }
        ],
        holds={
            HOUSEHOLD: [
                {
                    "hold_id": ERASURE,
                    "basis": "appeal",
                    "order_reference": None,
                    "placed_at": "2026-02-01T00:00:00Z",
                    "placed_by": "demo-dpo",
                }
            ]
        },
        limit=200,
    )
    assert f'action="/retention/holds/{ERASURE}/release"' in retention and 'value="token-1"' in retention
    assert 'value="token-1"' in render("hold.html", household_id=HOUSEHOLD, values={})
    subjects = render(
        "subjects.html",
        person_id="OE-7",
        document=EXPORT,
        sections=privacy.summary_of(EXPORT),
        cell=privacy.cell,
        download="person_id=OE-7",
    )
    assert "/subjects/export.pdf?person_id=OE-7" in subjects and "Zhyldyz" in subjects
    access = render(
        "key_access.html",
        caller="",
        limit=200,
        rows=[
            {
                "at": "2026-03-02T09:00:00+00:00",
                "caller": "case",
                "role": "service",
                "organisation": None,
                "operation": "release",
                "purpose": None,
                "granted": False,
                "keys": 2,
                "destroyed": 1,
            }
        ],
    )
    assert "/key-access?caller=case" in access
