"""The interface's languages: French, Dutch, English and German, from .po catalogues read at startup
(Babel), and dates, times and numbers written per language in Europe/Brussels time.

English is the source language; a message missing from a catalogue falls back to it.
"""

from __future__ import annotations

import gettext as stdlib_gettext
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import Translations

BRUSSELS = ZoneInfo("Europe/Brussels")
LANGUAGES = ("fr", "nl", "en", "de")
NAMES = {"fr": "Français", "nl": "Nederlands", "en": "English", "de": "Deutsch"}
LOCALE_DIR = Path(__file__).with_name("locale")


@lru_cache(maxsize=len(LANGUAGES))
def translations(language: str) -> stdlib_gettext.NullTranslations:
    """The catalogue of `language` (read once per process); English and unknown ones translate nothing."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if language == "en" or not po.exists():
        return stdlib_gettext.NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def negotiate(*candidates: str | None, accept_language: str = "", default: str = "fr") -> str:
    """The first supported language among `candidates` (cookie, profile), then the browser's."""
    for candidate in candidates:
        if candidate in LANGUAGES:
            return candidate
    for item in _accepted(accept_language):
        if item in LANGUAGES:
            return item
    return default if default in LANGUAGES else "fr"


def _accepted(header: str) -> Iterable[str]:
    ranked = []
    for part in header.split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            weight = 0.0
        if tag:
            ranked.append((weight, tag.split("-")[0].lower()))
    return [tag for _, tag in sorted(ranked, key=lambda r: -r[0])]


Day = date
Moment = datetime


@dataclass(frozen=True)
class Language:
    """One person's language: `gettext` and the formats of dates, times and numbers."""

    code: str

    @property
    def locale(self) -> Locale:
        return Locale.parse({"fr": "fr_BE", "nl": "nl_BE", "de": "de_BE", "en": "en_GB"}[self.code])

    def gettext(self, message: str, **values: Any) -> str:
        text = translations(self.code).gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: Any) -> str:
        text = translations(self.code).ngettext(singular, plural, n)
        return text % ({"n": n} | values)

    def date(self, value: Day | Moment | str | None, form: str = "medium") -> str:
        if value is None or value == "":
            return ""
        moment = _parsed(value)
        if isinstance(moment, datetime):
            moment = moment.astimezone(BRUSSELS).date()
        return format_date(moment, format=form, locale=self.locale)

    def datetime(self, value: Moment | str | None, form: str = "medium") -> str:
        if value is None or value == "":
            return ""
        moment = _parsed(value)
        if not isinstance(moment, datetime):
            return self.date(moment, form)
        if form == "short":
            return format_datetime(moment, format="short", tzinfo=BRUSSELS, locale=self.locale)
        return f"{self.date(moment)}, {self.time(moment)}"  # no seconds: nobody plans to the second

    def time(self, value: Moment | str | None) -> str:
        if value is None or value == "":
            return ""
        moment = _parsed(value)
        assert isinstance(moment, datetime)
        return format_time(moment, format="short", tzinfo=BRUSSELS, locale=self.locale)

    def weekday(self, value: Day | Moment | str) -> str:
        return self.date(value, "EEEE d MMMM y")

    def month(self, value: Day | str) -> str:
        return format_date(_parsed(value), format="MMMM y", locale=self.locale)

    def size(self, value: int | None) -> str:
        """A file's size as people read it: 820 kB, 3.4 MB (powers of 1024, as the upload limit)."""
        if value is None:
            return ""
        if value < 1024 * 1024:
            return f"{format_decimal(max(1, round(value / 1024)), locale=self.locale)} kB"
        return f"{format_decimal(round(value / 1024 / 1024, 1), locale=self.locale)} MB"

    def number(self, value: float | int | None, digits: int = 1) -> str:
        if value is None:
            return "-"
        return format_decimal(round(value, digits), locale=self.locale)


def _parsed(value: date | datetime | str) -> date | datetime:
    if isinstance(value, str):
        if len(value) == 10:
            return date.fromisoformat(value)
        if len(value) == 7:  # a month, 2026-03
            return date.fromisoformat(value + "-01")
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value
