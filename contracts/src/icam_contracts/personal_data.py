"""Personal data, grouped per person so that it is encrypted and erased per person.

Everything that identifies or describes a natural person (names, birth date, nationality,
address, e-mail, phone, vulnerabilities) lives in one ``PersonalData`` object per person. Only
``person_id`` (the Immigration Office dossier reference) and ``is_minor`` stay outside the sealed
part: the reference is the key under which the rest is encrypted (crypto-shredding), so that
destroying one key erases the person from every event without rewriting the log.

In the store and on the topics a ``PersonalData`` object carries its other fields in ``sealed``
(AES-256-GCM under the person's data key), and every free text that may describe someone — the
fields whose schema says ``x-personal-data: household`` — is a sealed string under the
household's key. Subscribers with a key grant open both (see the subscriber guide); the others
read every other field as usual. Reporting needs only counts (``adults``, ``minors``), which
events carry in clear.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Final

from pydantic import ConfigDict, Field

from icam_contracts.base import Contract
from icam_contracts.enums import Language, VulnerabilityCategory

POSTAL_ADDRESS_EXAMPLE: Final[dict[str, Any]] = {
    "street": "Rue Haute",
    "house_number": "120",
    "box": "3",
    "postal_code": "1000",
    "municipality": "Bruxelles",
    "country": "BE",
}
CONTACT_EXAMPLE: Final[dict[str, Any]] = {
    "postal_address": POSTAL_ADDRESS_EXAMPLE,
    "email": "a.example@example.org",
    "phone": "+32470123456",
}
PERSONAL_DATA_EXAMPLE: Final[dict[str, Any]] = {
    "person_id": "8123456",
    "given_name": "Amina",
    "family_name": "Example",
    "birth_date": "1990-04-12",
    "is_minor": False,
    "nationality": "MA",
    "preferred_language": "fr",
    "contact": CONTACT_EXAMPLE,
    "vulnerabilities": [],
}
SEALED_PREFIX: Final = "sealed:v1:"
"""How a sealed value starts: ``sealed:v1:<key id>:<nonce>:<ciphertext>`` (base64url, no padding)."""

PERSONAL_TEXT: Final[dict[str, Any]] = {"x-personal-data": "household"}
"""Schema mark of a free text that may describe someone: sealed under the household's data key."""

PERSONAL_DATA_MARK: Final[dict[str, Any]] = {"x-personal-data": "person"}

CHILD_PERSONAL_DATA_EXAMPLE: Final[dict[str, Any]] = {
    "person_id": "8123457",
    "given_name": "Yasmine",
    "family_name": "Example",
    "birth_date": "2016-09-01",
    "is_minor": True,
    "nationality": "MA",
    "preferred_language": None,
    "contact": None,
    "vulnerabilities": [],
}


class PostalAddress(Contract):
    """A postal address where letters reach the person."""

    street: str = Field(min_length=1, description="Street name.", examples=["Rue Haute"])
    house_number: str = Field(min_length=1, description="House number.", examples=["120"])
    box: str | None = Field(default=None, description="Box or flat number.", examples=["3"])
    postal_code: str = Field(min_length=1, description="Postal code.", examples=["1000"])
    municipality: str = Field(min_length=1, description="Municipality.", examples=["Bruxelles"])
    country: str = Field(
        default="BE",
        pattern=r"^[A-Z]{2}$",
        description="ISO 3166-1 alpha-2 country code.",
        examples=["BE"],
    )


class ContactDetails(Contract):
    """How the person can be reached; every part is optional (police interceptions have none)."""

    postal_address: PostalAddress | None = Field(
        default=None, description="Home or reference address.", examples=[POSTAL_ADDRESS_EXAMPLE]
    )
    email: str | None = Field(default=None, description="E-mail address.", examples=["a.example@example.org"])
    phone: str | None = Field(
        default=None, description="Phone number, E.164 preferred.", examples=["+32470123456"]
    )


class PersonalData(Contract):
    """Everything personal about one person, keyed by their dossier reference.

    ``person_id`` and ``is_minor`` stay in clear; the other fields travel sealed under the
    person's data key (``sealed``) and are empty once the person is erased. Vulnerabilities are
    special-category data (GDPR art. 9): need-to-know only.
    """

    model_config = ConfigDict(json_schema_extra=PERSONAL_DATA_MARK)

    person_id: str = Field(
        min_length=1,
        max_length=50,
        description="The person's Immigration Office dossier reference (also the erasure key).",
        examples=["8123456"],
    )
    given_name: str | None = Field(default=None, description="Given name(s).", examples=["Amina"])
    family_name: str | None = Field(default=None, description="Family name.", examples=["Example"])
    birth_date: date | None = Field(
        default=None, description="Date of birth, when known.", examples=["1990-04-12"]
    )
    is_minor: bool | None = Field(
        default=None,
        description="Whether the person is a minor (under 18); null when not stated in this event.",
        examples=[False],
    )
    nationality: str | None = Field(
        default=None,
        pattern=r"^[A-Z]{2}$",
        description="Declared nationality, ISO 3166-1 alpha-2.",
        examples=["MA"],
    )
    preferred_language: Language | None = Field(
        default=None,
        description="Language the person prefers to be addressed in.",
        examples=["fr"],
    )
    contact: ContactDetails | None = Field(
        default=None, description="Contact details.", examples=[CONTACT_EXAMPLE]
    )
    vulnerabilities: tuple[VulnerabilityCategory, ...] = Field(
        default=(),
        description="Vulnerability categories needing special attention (categories only).",
        examples=[["pregnancy"]],
    )
    sealed: str | None = Field(
        default=None,
        pattern=r"^sealed:v1:",
        description=(
            "In the store and on the topics: the other personal fields, AES-256-GCM under the "
            "person's data key (``sealed:v1:<key id>:<nonce>:<ciphertext>``); absent once opened."
        ),
        examples=[None],
    )
