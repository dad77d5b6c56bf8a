"""Postal letters rendered to PDF: one A4 page per letter, under the office letterhead.

Letters use the PDF core font (Helvetica, Latin-1), which every reader and printer has; the few
characters outside Latin-1 are written as their closest Latin-1 form. A long letter is set in a
smaller type until it fits on its one page; one that does not fit even in the smallest type goes on
over further pages in the normal type — never a line below the bottom margin, never a word lost.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from functools import cache
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
_BODY_TOP: Final = 93.0  # mm: where the subject starts, below date and reference (see _draw)
_TEXT_WIDTH: Final = 170.0  # mm: A4 width 210 minus 20 mm margins each side
_PT_PER_MM: Final = 72 / 25.4


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
    pdf.set_auto_page_break(True, margin=297 - _PAGE_BOTTOM)  # a line that would cross it: next page
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
    _paragraphs(pdf, latin1(letter.subject), body_size * 0.5)
    pdf.ln(3)
    pdf.set_font("Helvetica", "", body_size)
    _paragraphs(pdf, latin1(letter.body), body_size * 0.47)
    return pdf


def _paragraphs(pdf: FPDF, text: str, line_height: float) -> None:
    for line in wrap(text, pdf.current_font.cw, pdf.font_size_pt / 1000 / pdf.k, pdf.epw):
        pdf.cell(0, line_height, line, new_x="LMARGIN", new_y="NEXT")


def wrap(text: str, glyph_widths: dict[str, int], scale: float, width: float) -> list[str]:
    """The lines of ``text`` no wider than ``width`` (mm), breaking between words.

    Measured with the core font's own glyph widths (1/1000 em, times ``scale``): fpdf's
    ``multi_cell`` lays text out glyph by glyph and took ~120 ms a page, which starved the
    service's consumers under load; this takes well under a millisecond. A word wider than a line
    (a long URL) is left whole on a line of its own.
    """

    def measure(chunk: str) -> float:
        return sum(glyph_widths.get(ch, 556) for ch in chunk) * scale

    space = measure(" ")
    lines: list[str] = []
    for paragraph in text.split("\n"):
        words: list[str] = []
        used = 0.0
        for word in paragraph.split(" "):
            needed = measure(word)
            if words and used + space + needed > width:
                lines.append(" ".join(words))
                words, used = [word], needed
            else:
                used += needed + (space if words else 0.0)
                words.append(word)
        lines.append(" ".join(words))
    return lines


def render_letter(letter: Letter) -> bytes:
    """The letter as a one-page PDF in the largest body size that fits the page; a letter that
    fits none goes on over more pages in the normal size."""
    size = next((size for size in _BODY_SIZES if _fits(letter, size)), _BODY_SIZES[0])
    return bytes(_draw(letter, size).output())


def _fits(letter: Letter, body_size: float) -> bool:
    """Whether subject and body end above the page's bottom margin (laid out, not drawn)."""
    subject = wrap(latin1(letter.subject), _widths("B"), (body_size + 0.5) / 1000 / _PT_PER_MM, _TEXT_WIDTH)
    body = wrap(latin1(letter.body), _widths(""), body_size / 1000 / _PT_PER_MM, _TEXT_WIDTH)
    bottom = _BODY_TOP + len(subject) * body_size * 0.5 + 3 + len(body) * body_size * 0.47
    return bottom <= _PAGE_BOTTOM


@cache
def _widths(style: str) -> dict[str, int]:
    pdf = FPDF(format="A4", unit="mm")
    pdf.set_font("Helvetica", style, 10)
    return dict(pdf.current_font.cw)
