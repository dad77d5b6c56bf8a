"""Postal letters rendered to PDF: one A4 page per letter, under the office letterhead.

Letters use the PDF core font (Helvetica, Latin-1), which every reader and printer has; the few
characters outside Latin-1 are written as their closest Latin-1 form. A long letter is set in a
smaller type until it fits on its one page.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Final

from fpdf import FPDF

from icam_notification import formats

LETTERHEAD: Final = (
    "Office des Étrangers | Dienst Vreemdelingenzaken | Ausländeramt | Immigration Office",
    "ICAM - Alternatives to Detention (ATD)",
)
_REPLACEMENTS: Final = str.maketrans(
    {"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
     "\u2026": "...", "\u0153": "oe", "\u0152": "OE", "\u20ac": "EUR", "\u00a0": " ",
     "\u0141": "L", "\u0142": "l", "\u0110": "D", "\u0111": "d", "\u0131": "i"}
)  # fmt: skip
_BODY_SIZES: Final = (10.5, 10.0, 9.5, 9.0, 8.5, 8.0, 7.5, 7.0)
_PAGE_BOTTOM: Final = 282.0  # mm: A4 is 297 mm high; keep a 15 mm margin


@dataclass(frozen=True)
class Letter:
    """What goes on the page."""

    language: str
    office_line: str
    contact_line: str
    address_lines: tuple[str, ...]
    place: str
    dated: date
    reference: str
    subject: str
    body: str


def latin1(text: str) -> str:
    """``text`` with every character the core font cannot draw replaced by its closest form."""
    text = text.translate(_REPLACEMENTS)
    if all(ord(ch) < 256 for ch in text):
        return text
    return "".join(ch if ord(ch) < 256 else _closest(ch) for ch in text)


def _closest(ch: str) -> str:
    # the base letter of an accented one (z for \u017a); "?" for another script, never nothing
    base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    return base if base and all(ord(c) < 256 for c in base) else "?"


def _draw(letter: Letter, body_size: float) -> FPDF:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(20, 15, 20)
    pdf.set_title(latin1(letter.subject))
    pdf.set_lang(letter.language)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 11)
    pdf.cell(0, 5, latin1(LETTERHEAD[1]), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 8)
    for line in (LETTERHEAD[0], letter.office_line, letter.contact_line):
        pdf.cell(0, 4, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.line(20, pdf.get_y() + 1, 190, pdf.get_y() + 1)
    pdf.set_xy(115, 45)  # the window of a DL envelope
    pdf.set_font("Helvetica", "", 10)
    for line in letter.address_lines:
        pdf.set_x(115)
        pdf.cell(75, 5, latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(20, 80)
    pdf.cell(0, 5, latin1(f"{letter.place}, {formats.long_date(letter.dated, letter.language)}"))
    pdf.ln(5)
    pdf.cell(0, 5, latin1(f"Ref.: {letter.reference}"), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "B", body_size + 0.5)
    pdf.multi_cell(0, body_size * 0.5, latin1(letter.subject), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", body_size)
    pdf.multi_cell(0, body_size * 0.47, latin1(letter.body), align="L", new_x="LMARGIN", new_y="NEXT")
    return pdf


def render_letter(letter: Letter) -> bytes:
    """The letter as a one-page PDF."""
    for size in _BODY_SIZES:
        pdf = _draw(letter, size)
        if pdf.get_y() <= _PAGE_BOTTOM:
            break
    return bytes(pdf.output())
