"""Postal code -> province -> office -> region, and the language of the letter."""

from __future__ import annotations

import pytest

from icam_contracts.enums import Language
from icam_invitation.domain.errors import AddressNotServed, InvalidCommand
from icam_invitation.testing import OFFICES

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("postal_code", "office", "region"),
    [
        ("1000", "brussels", "brussels"),
        ("1300", "brussels", "brussels"),
        ("1800", "brussels", "brussels"),
        ("2000", "antwerp", "antwerp_limburg"),
        ("3000", "brussels", "brussels"),
        ("3500", "hasselt", "antwerp_limburg"),
        ("4000", "liege", "liege"),
        ("4700", "liege", "liege"),
        ("5000", "namur", "namur_luxembourg"),
        ("6000", "namur", "namur_luxembourg"),
        ("6800", "neufchateau", "namur_luxembourg"),
        ("7000", "brussels", "brussels"),
        ("8000", "ghent", "east_west_flanders"),
        ("9000", "ghent", "east_west_flanders"),
    ],
)
def test_the_office_follows_from_the_postal_code(postal_code: str, office: str, region: str) -> None:
    assert OFFICES.office_for(postal_code, "BE", "address") == (office, region)


def test_every_belgian_postal_code_has_an_office() -> None:
    for number in range(1000, 10000):
        assert OFFICES.office_for(str(number), "BE", "address")


@pytest.mark.parametrize(
    ("postal_code", "country", "field"),
    [
        (None, "BE", "address.postal_code"),
        ("", "BE", "address.postal_code"),
        ("75001", "BE", "address.postal_code"),
        ("0999", "BE", "address.postal_code"),
        ("1000", "FR", "address.country"),
    ],
)
def test_an_address_without_a_belgian_postal_code_is_refused_naming_the_field(
    postal_code: str | None, country: str, field: str
) -> None:
    with pytest.raises(AddressNotServed) as refused:
        OFFICES.office_for(postal_code, country, "address")
    assert refused.value.field == field
    assert refused.value.status == 422


def test_an_unknown_office_is_refused() -> None:
    with pytest.raises(InvalidCommand):
        OFFICES.region_of("atlantis", "office")


def test_the_letter_is_in_the_preferred_language_when_the_region_writes_in_it() -> None:
    assert OFFICES.language_for("liege", Language.DE) == Language.DE
    assert OFFICES.language_for("brussels", Language.NL) == Language.NL
    assert OFFICES.language_for("east_west_flanders", Language.EN) == Language.EN


def test_otherwise_the_letter_is_in_the_official_language_of_the_region() -> None:
    assert OFFICES.language_for("east_west_flanders", Language.FR) == Language.NL
    assert OFFICES.language_for("namur_luxembourg", None) == Language.FR
