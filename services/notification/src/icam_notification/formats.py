"""Dates, times and names written the way each language writes them (no locale database needed)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Final
from zoneinfo import ZoneInfo

BRUSSELS: Final = ZoneInfo("Europe/Brussels")

MONTHS: Final[dict[str, tuple[str, ...]]] = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "nl": (
        "januari", "februari", "maart", "april", "mei", "juni",
        "juli", "augustus", "september", "oktober", "november", "december",
    ),
    "de": (
        "Januar", "Februar", "März", "April", "Mai", "Juni",
        "Juli", "August", "September", "Oktober", "November", "Dezember",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip
WEEKDAYS: Final[dict[str, tuple[str, ...]]] = {
    "fr": ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    "nl": ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    "de": ("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    "en": ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
}
LANGUAGE_NAMES: Final[dict[str, dict[str, str]]] = {
    "fr": {"fr": "français", "nl": "néerlandais", "de": "allemand", "en": "anglais"},
    "nl": {"fr": "Frans", "nl": "Nederlands", "de": "Duits", "en": "Engels"},
    "de": {"fr": "Französisch", "nl": "Niederländisch", "de": "Deutsch", "en": "Englisch"},
    "en": {"fr": "French", "nl": "Dutch", "de": "German", "en": "English"},
}


def _local(value: date | datetime) -> date | datetime:
    return value.astimezone(BRUSSELS) if isinstance(value, datetime) and value.tzinfo else value


def long_date(value: date | datetime, lang: str) -> str:
    """``mercredi 11 mars 2026``, ``woensdag 11 maart 2026``, ``Mittwoch, 11. März 2026``,
    ``Wednesday 11 March 2026`` — in Brussels time."""
    day = _local(value)
    weekday, month = WEEKDAYS[lang][day.weekday()], MONTHS[lang][day.month - 1]
    if lang == "de":
        return f"{weekday}, {day.day}. {month} {day.year}"
    return f"{weekday} {day.day} {month} {day.year}"


def short_date(value: date | datetime, lang: str) -> str:
    """``11/03/2026`` (``11.03.2026`` in German), for SMS."""
    day = _local(value)
    separator = "." if lang == "de" else "/"
    return f"{day.day:02d}{separator}{day.month:02d}{separator}{day.year}"


def clock(value: datetime) -> str:
    """``10:00`` in Brussels time."""
    local = _local(value)
    assert isinstance(local, datetime)
    return f"{local.hour:02d}:{local.minute:02d}"


def weekday_name(index: int, lang: str) -> str:
    """Name of the ISO weekday ``index`` (0 = Monday)."""
    return WEEKDAYS[lang][index]


def language_name(code: str, lang: str) -> str:
    """Name of language ``code`` written in ``lang``."""
    return LANGUAGE_NAMES[lang].get(code, code)
