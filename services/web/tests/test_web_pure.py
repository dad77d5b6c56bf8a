"""The web's pure parts: CSRF, problems next to their fields, languages and Brussels dates, forms,
the dashboard's figures and exports, the catalogues in step with the interface."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from starlette.datastructures import FormData

from icam_web import catalog, csrf, exports, figures, forms, i18n, problems
from icam_web.deps import local_path
from icam_web.scheduling import SchedulingHints

pytestmark = pytest.mark.unit


def echo(message: str, **values: object) -> str:
    return message % values if values else message


def test_a_csrf_token_matches_only_itself_and_never_when_missing() -> None:
    token = csrf.new_token()
    assert csrf.matches(token, token)
    assert not csrf.matches(token, csrf.new_token())
    assert not csrf.matches(token, None) and not csrf.matches(None, token) and not csrf.matches("", "")


def test_a_domain_problem_is_shown_next_to_the_field_it_names() -> None:
    problem = {
        "status": 422,
        "detail": "the interview must be at least 5 working days after a postal invitation",
        "field": "appointment_at",
        "earliest_valid_date": "2026-03-18",
    }
    view = problems.view_of(422, problem, echo, form_fields={"appointment_at"})
    assert view.fields == {
        "appointment_at": "The interview must be at least 5 working days after a postal invitation."
    }
    assert view.details["earliest_valid_date"] == "2026-03-18"
    assert not view.conflict and not view.retry


def test_validation_errors_land_on_their_fields_through_aliases_and_the_rest_in_the_summary() -> None:
    problem = {
        "errors": [
            {"field": "members.0.contact.postal_address.postal_code", "message": "Field required"},
            {"field": "body.channels", "message": "List should have at least 1 item"},
            {"field": "unknown.thing", "message": "bad"},
        ]
    }
    view = problems.view_of(422, problem, echo, {"channels", "postal_code"}, forms.MEMBER_ALIASES)
    assert view.fields == {"postal_code": "Enter a value.", "channels": "List should have at least 1 item."}
    assert view.summary == "unknown.thing: Bad."


def test_a_conflict_offers_a_reload_and_an_unavailable_service_a_retry() -> None:
    assert problems.view_of(409, {"title": "Conflict"}, echo).conflict
    unavailable = problems.view_of(503, {}, echo)
    assert unavailable.retry and "Try again" in unavailable.summary


def test_field_paths_are_normalised_from_both_notations() -> None:
    assert problems.normalise("body.members[0].contact.email") == "members.0.contact.email"
    assert (
        problems.field_of("missing_elements.1.element", {"element_2"}, forms.interview_aliases())
        == "element_2"
    )


@pytest.mark.parametrize(
    ("language", "expected_date", "expected_time"),
    [("fr", "11 mars 2026", "10:00"), ("nl", "11 mrt 2026", "10:00"), ("en", "11 Mar 2026", "10:00")],
)
def test_dates_are_written_per_language_in_brussels_time(
    language: str, expected_date: str, expected_time: str
) -> None:
    lang = i18n.Language(language)
    moment = datetime(2026, 3, 11, 9, 0, tzinfo=UTC)  # 10:00 in Brussels (winter time)
    assert lang.date(moment) == expected_date
    assert lang.time(moment) == expected_time
    assert lang.datetime("2026-07-01T08:30:00Z").endswith("10:30")  # summer time


def test_the_language_comes_from_the_choice_then_the_browser_then_the_default() -> None:
    assert i18n.negotiate("nl", accept_language="fr-BE") == "nl"
    assert i18n.negotiate(None, accept_language="de-DE,de;q=0.9,en;q=0.5") == "de"
    assert i18n.negotiate("xx", accept_language="es", default="fr") == "fr"


def test_french_and_dutch_translate_the_interface_and_plurals() -> None:
    assert i18n.Language("fr").gettext("Caseload") == "Dossiers"
    assert i18n.Language("nl").ngettext("%(n)s case", "%(n)s cases", 3) == "3 dossiers"
    assert i18n.Language("en").gettext("Caseload") == "Caseload"


def test_every_message_of_the_interface_is_translated_in_french_dutch_and_german() -> None:
    singles, plurals = catalog.messages()
    for language in ("fr", "nl", "de"):
        translations = i18n.translations(language)
        untranslated = [m for m in singles if translations.gettext(m) == m and not _same_in(language, m)]
        assert not untranslated, (
            f"{language}: run `python -m icam_web.catalog` and translate {untranslated[:5]}"
        )
        assert all(translations.ngettext(s, p, 2) != p for s, p in plurals)


def _same_in(language: str, message: str) -> bool:
    """Words spelt alike in both languages (Coach, Menu, E-mail, ...)."""
    po = (i18n.LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    escaped = message.replace('"', '\\"')
    return f'msgid "{escaped}"\nmsgstr "{escaped}"' in po


def test_the_interview_form_becomes_the_case_services_body() -> None:
    form = FormData(
        [
            ("occurred_at", "2026-03-11T10:00:05"),
            ("kind", "intake"),
            ("language", "fr"),
            ("attendees", "OE1"),
            ("attendees", "OE2"),
            ("interpreter_present", "yes"),
            ("topics", "return options"),
            ("other_topics", "school, health"),
            ("notes", " passport missing "),
            ("duration_minutes", "45"),
            ("element_1", "travel_document"),
            ("element_person_1", "OE1"),
            ("element_2", ""),
        ]
    )
    body = forms.interview(form)
    assert body["occurred_at"] == "2026-03-11T10:00:05+01:00"
    assert body["attendees"] == ["OE1", "OE2"] and body["interpreter_present"] is True
    assert body["topics"] == ["return options", "school", "health"] and body["notes"] == "passport missing"
    assert body["missing_elements"] == [
        {"person_id": "OE1", "element": "travel_document", "description": None, "due_on": None}
    ]


def test_the_outcome_form_sends_only_what_the_chosen_outcome_needs() -> None:
    b = forms.outcome(
        FormData(
            [
                ("outcome", "return_accepted"),
                ("consent_to_referral", "yes"),
                ("procedure_explained", "yes"),
                ("expected_version", "7"),
            ]
        )
    )
    assert b["consent_to_referral"] is True and "procedure_explained" not in b and b["expected_version"] == 7
    c = forms.outcome(FormData([("outcome", "return_refused"), ("consequences_explained", "yes")]))
    assert c["consequences_explained"] is True and "consent_to_referral" not in c


def test_only_local_paths_are_followed_after_sign_in() -> None:
    assert local_path("/cases/1?x=2") == "/cases/1?x=2"
    assert local_path("https://evil.example/steal") == "/steal"  # the path only: never another site
    assert local_path("//evil.example") == "/"
    assert local_path("http://127.0.0.1:8105/cases") == "/cases"


def test_the_earliest_valid_date_skips_weekends_and_belgian_holidays() -> None:
    hints = SchedulingHints()
    friday_before_easter_monday = datetime(2026, 4, 3, 10, tzinfo=UTC)  # Easter Monday: 6 April 2026
    earliest = hints.earliest(friday_before_easter_monday, postal=False)
    assert earliest.date() == date(2026, 4, 8)  # Tue 7 and Wed 8 are the two working days
    assert (earliest.hour, earliest.minute) == (9, 0)
    assert any(
        name for day, name in hints.holidays_ahead(date(2026, 7, 1), 31, "fr") if day == date(2026, 7, 21)
    )


FUNNEL = [
    {
        "region": "brussels",
        "office": "brussels",
        "entry_channel": "walk_in",
        "language": "fr",
        "week": "2026-W10",
        "invited": 3,
        "confirmed": 1,
        "honoured": 2,
        "no_show": 1,
        "cancelled": 0,
        "declined": 0,
    },
    {
        "region": "brussels",
        "office": "brussels",
        "entry_channel": "invitation_letter",
        "language": "nl",
        "week": "2026-W14",
        "invited": 2,
        "confirmed": 0,
        "honoured": 1,
        "no_show": 0,
        "cancelled": 1,
        "declined": 0,
    },
]
OUTCOMES = [
    {
        "region": "brussels",
        "month": "2026-03-01",
        "first_outcomes": 2,
        "outcomes": {"return_accepted": 2, "return_refused": 1},
    }
]


def test_the_funnel_adds_up_per_dimension_and_joins_the_outcomes() -> None:
    tables = figures.funnel(FUNNEL, OUTCOMES)
    region = dict(tables["region"].rows)
    assert region["brussels"]["invited"] == 5 and region["brussels"]["outcome"] == 2
    month = dict(tables["month"].rows)
    assert (
        month["2026-03"]["invited"] == 3
        and month["2026-04"]["invited"] == 2
        and month["2026-03"]["outcome"] == 2
    )
    assert dict(tables["language"].rows)["nl"]["cancelled"] == 1
    assert figures.month_of_week("2026-W01") == "2026-01"  # its Thursday is 1 January


def test_exports_carry_the_same_numbers_as_the_tables() -> None:
    tables = figures.dashboard(FUNNEL, OUTCOMES, [{"partner": "fedasil", "departed": 4}], [])
    rows = list(csv.DictReader(io.StringIO(exports.to_csv(tables))))
    assert {
        "table": "referrals_partner",
        "dimension": "partner",
        "key": "fedasil",
        "measure": "departed",
        "value": "4",
    } in rows
    sheet = load_workbook(io.BytesIO(exports.to_xlsx(tables)))["outcomes_region"]
    assert [c.value for c in sheet[2]] == ["brussels", 0, 2, 1]


def test_a_month_range_becomes_each_statistics_routes_parameters() -> None:
    bounds = figures.range_params("2026-01", "2026-03")
    assert bounds["funnel"] == {"week_from": "2026-W01", "week_to": "2026-W14"}
    assert bounds["outcomes"] == {"since": "2026-01-01", "until": "2026-03-01"}
    assert bounds["pipeline"] == {"month_from": "2026-01", "month_to": "2026-03"}


def test_the_mailbox_page_exists_only_where_the_local_platform_says_where_the_mailbox_is(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from icam_web.config import WebSettings

    monkeypatch.setenv("ICAM_MAILBOX_URL", "http://127.0.0.1:8190/")
    monkeypatch.delenv("ICAM_DEV_MAILBOX", raising=False)
    assert WebSettings.from_env().mailbox_url is None  # a URL alone, outside `icam up`: no page
    monkeypatch.setenv("ICAM_DEV_MAILBOX", "1")
    assert WebSettings.from_env().mailbox_url == "http://127.0.0.1:8190"
