"""What staff type into the platform, checked at the edge before any command is built.

Request models of every service use these types, so a name, a note, a postal code, an e-mail
address or a phone number means the same everywhere and never reaches a letter unchecked:

* names and free texts are trimmed, bounded, and free of control characters (a note may hold
  line breaks);
* a Belgian postal code is four ASCII digits 1000-9999 after trimming (Arabic-Indic or other
  digits are refused: they would be printed on a letter as typed);
* e-mail addresses are checked and normalised by `email-validator`, phone numbers parsed by
  `phonenumbers` (Belgian numbers without a country code) and kept in E.164;
* a birth date lies between 1900 and today.

Validation messages name the field and the rule, never the value typed (it may be personal data).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f]")
_BELGIAN_POSTAL_CODE = re.compile(r"[1-9][0-9]{3}")
_FOREIGN_POSTAL_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 \-]{1,11}")


def _trimmed(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _one_line(value: str) -> str:
    if _CONTROL_OR_BREAK.search(value):
        raise ValueError("must be one line without control characters")
    return value


def _text(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not hold control characters")
    return value


def _email(value: str) -> str:
    try:
        return str(validate_email(value, check_deliverability=False).normalized)
    except EmailNotValidError:
        raise ValueError("is not a valid e-mail address") from None


def _phone(value: str) -> str:
    try:
        number = phonenumbers.parse(value, "BE")
    except phonenumbers.NumberParseException:
        raise ValueError("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _birth_date(value: date) -> date:
    if value > datetime.now(UTC).date():
        raise ValueError("a birth date cannot lie in the future")
    if value.year < 1900:
        raise ValueError("a birth date before 1900 is not plausible")
    return value


def belgian_postal_code(value: str) -> str:
    """Four ASCII digits 1000-9999 (after trimming), or ValueError."""
    code = value.strip()
    if not (code.isascii() and _BELGIAN_POSTAL_CODE.fullmatch(code)):
        raise ValueError("a Belgian postal code is four digits from 1000 to 9999")
    return code


def foreign_postal_code(value: str) -> str:
    """A postal code of another country: 2 to 12 ASCII letters, digits, spaces or hyphens."""
    code = value.strip()
    if not _FOREIGN_POSTAL_CODE.fullmatch(code):
        raise ValueError("a postal code is 2 to 12 letters, digits, spaces or hyphens")
    return code


Name = Annotated[
    str, BeforeValidator(_trimmed), Field(min_length=1, max_length=100), AfterValidator(_one_line)
]
"""A given or family name, a street, a municipality: one line, 1 to 100 characters."""

Label = Annotated[
    str, BeforeValidator(_trimmed), Field(min_length=1, max_length=200), AfterValidator(_one_line)
]
"""A short one-line text (a reason, a subject, a topic): up to 200 characters."""

Note = Annotated[str, BeforeValidator(_trimmed), Field(min_length=1, max_length=4000), AfterValidator(_text)]
"""A free text that may span lines (interview notes, a rationale): up to 4,000 characters."""

Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,49}$")]
"""A reference-data code: region, office, desk, partner (`brussels`, `fedasil`)."""

Subject = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9._@:\-]+$")]
"""The subject of a staff member's token (`coach-4711`)."""

Email = Annotated[str, BeforeValidator(_trimmed), Field(max_length=254), AfterValidator(_email)]
Phone = Annotated[str, BeforeValidator(_trimmed), Field(max_length=32), AfterValidator(_phone)]
BirthDate = Annotated[date, AfterValidator(_birth_date)]


def _plausible_day(value: date) -> date:
    if not 1900 <= value.year <= 2999:
        raise ValueError("a date between the years 1900 and 2999")
    return value


def _plausible_moment(value: datetime) -> datetime:
    if not 1900 <= value.year <= 2999:
        raise ValueError("a time between the years 1900 and 2999")
    return value


Day = Annotated[date, AfterValidator(_plausible_day)]
"""A calendar day a query asks about (agendas, statistics): between 1900 and 2999, so that no
time-zone arithmetic on it can overflow."""

Moment = Annotated[datetime, AfterValidator(_plausible_moment)]
"""A point in time a query asks about (`as_of`, `due_before`, `since`): between 1900 and 2999."""
