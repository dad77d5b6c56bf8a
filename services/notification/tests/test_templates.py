"""Every message kind renders in French, Dutch, German and English, and letters fit one page."""

from __future__ import annotations

import io

import notification_samples as s
import pypdf
import pytest

from icam_contracts.enums import Language
from icam_notification.domain import MessageKind
from icam_notification.letters import Letter, latin1, render_letter
from icam_notification.messages import message_context
from icam_notification.templates import render

pytestmark = pytest.mark.unit


def context(kind: MessageKind) -> dict:
    recipient = s.PARTNER if kind is MessageKind.REFERRAL_PARTNER else s.household().members[0]
    return message_context(kind, s.TRIGGER_OF_KIND[kind](), recipient, s.facts())


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("kind", list(MessageKind))
def test_every_kind_renders_in_every_language_without_missing_keys(kind, language):
    text = render(kind, language, context(kind))  # StrictUndefined: a missing key raises
    assert text.subject and text.body and text.sms
    assert "{{" not in text.body and "None" not in text.body


@pytest.mark.parametrize("language", list(Language))
def test_the_invitation_says_when_where_what_to_bring_and_how_to_reach_atd(language):
    text = render(MessageKind.INVITATION, language, context(MessageKind.INVITATION))
    for expected in (
        "icamsupport@ibz.fgov.be",
        "02/488.97.77",
        "10:00",
        "Boulevard Pachéco 44, 1000",
        "Italiëlei 4/bus 1, 2000",
        "Rue de Fragnée 2, 4000",
        "09:00",
        "12:00",
        "INV-7C9E6679",
    ):
        assert expected in text.body, expected


def test_the_invitation_is_written_in_the_language_asked_for():
    ctx = context(MessageKind.INVITATION)
    assert "mercredi 11 mars 2026" in render(MessageKind.INVITATION, Language.FR, ctx).body
    assert "woensdag 11 maart 2026" in render(MessageKind.INVITATION, Language.NL, ctx).body
    assert "Mittwoch, 11. März 2026" in render(MessageKind.INVITATION, Language.DE, ctx).body
    assert "Wednesday 11 March 2026" in render(MessageKind.INVITATION, Language.EN, ctx).body


@pytest.mark.parametrize(
    ("language", "words"),
    [
        (Language.FR, ("retour forcé", "détention", "clôturé")),
        (Language.NL, ("gedwongen terugkeer", "opsluiting", "afgesloten")),
        (Language.DE, ("erzwungene Rückkehr", "Haft", "abgeschlossen")),
        (Language.EN, ("forced return", "detention", "closed")),
    ],
)
def test_the_consequences_letter_states_them_plainly(language, words):
    text = render(MessageKind.CONSEQUENCES, language, context(MessageKind.CONSEQUENCES))
    for word in words:
        assert word in text.body


def test_the_partner_notice_carries_no_personal_data():
    text = render(MessageKind.REFERRAL_PARTNER, Language.EN, context(MessageKind.REFERRAL_PARTNER))
    assert "Amina" not in text.body and "8123456" not in text.body
    assert "1 adult(s), 1 minor(s)" in text.body


def letter(language: Language, body: str) -> bytes:
    text = render(MessageKind.INVITATION, language, context(MessageKind.INVITATION))
    return render_letter(
        Letter(
            language=language.value,
            office_line="ICAM Bruxelles, Boulevard Pachéco 44, 1000 Bruxelles",
            contact_line="icamsupport@ibz.fgov.be | 02/488.97.77",
            address_lines=("Amina Example", "Rue Haute 120", "1000 Bruxelles"),
            place="Bruxelles",
            dated=s.date(2026, 3, 1),
            reference="INV-7C9E6679",
            subject=text.subject,
            body=body or text.body,
        )
    )


@pytest.mark.parametrize("language", list(Language))
def test_a_letter_is_one_pdf_page_with_letterhead_address_and_text(language):
    reader = pypdf.PdfReader(io.BytesIO(letter(language, "")))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    for expected in (
        "Alternatives to Detention",
        "Amina Example",
        "Rue Haute 120",
        "INV-7C9E6679",
        "02/488.97.77",
    ):
        assert expected in text


def lowest_text_mm(page: pypdf.PageObject) -> float:
    """How high above the page's bottom edge its lowest line of text is drawn (mm)."""
    heights: list[float] = []
    page.extract_text(
        visitor_text=lambda text, cm, tm, font, size: heights.append(tm[5]) if text.strip() else None
    )
    return min(heights) * 25.4 / 72


@pytest.mark.parametrize(("words", "one_page"), [(40, True), (400, True), (900, False), (1300, False)])
def test_a_letter_is_one_page_while_it_fits_and_no_line_ever_falls_below_the_margin(words, one_page):
    body = "plain words " * words + "ENDOFLETTER"
    reader = pypdf.PdfReader(io.BytesIO(letter(Language.EN, body)))

    assert (len(reader.pages) == 1) is one_page
    assert all(lowest_text_mm(page) >= 14 for page in reader.pages)  # the 15 mm margin, less rounding
    assert "ENDOFLETTER" in reader.pages[-1].extract_text()  # the whole text, on the last page


def test_characters_outside_latin1_are_written_in_their_closest_form():
    assert latin1("\u0152uvre \u2013 \u2018ok\u2019 \u0141\u00f3d\u017a") == "OEuvre - 'ok' L\u00f3dz"
