"""Reference data every service must agree on: regions, offices, walk-in desks, partners, languages.

Events carry *codes* (``region="brussels"``, ``partner="fedasil"``); this module says what the
codes mean. The defaults below come from public sources ([D]) or are inferences ([I]) and a
deployment overrides them with a JSON file named by ``ICAM_REFERENCE_DATA``: each top-level key
present in the file (``regions``, ``offices``, ``desks``, ``partners``, ``languages``) replaces
the default list. Codes are an open set for subscribers: an unknown code is not an error.

Language codes are bounded by the ``Language`` enum of the contracts: a deployment can relabel
or restrict them, not add one without a new contract version.
"""

from __future__ import annotations

import json
import os
from datetime import time
from pathlib import Path
from typing import Final, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from icam_contracts.enums import Language

REFERENCE_DATA_ENV: Final = "ICAM_REFERENCE_DATA"


class _Reference(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RegionInfo(_Reference):
    """One of the ICAM regions, supervised by a regional manager."""

    code: str
    names: dict[Language, str]
    languages: tuple[Language, ...] = Field(description="Languages of letters in this region.")


class OfficeInfo(_Reference):
    """An ICAM office where coaches hold interviews."""

    code: str
    region: str
    city: str
    opened: str | None = Field(default=None, description="When it opened, as reported.")
    address: str | None = Field(
        default=None, description="Street address for letters; None where not published (set by deployment)."
    )
    postal_code: str | None = Field(default=None, description="Postal code of `address`.")


class WalkInDeskInfo(_Reference):
    """A walk-in desk (guichet / loket): no appointment needed during opening hours."""

    code: str
    office: str
    address: str
    postal_code: str
    municipality: str
    weekday: int = Field(ge=0, le=6, description="0 = Monday (ISO weekday - 1).")
    opens: time
    closes: time
    timezone: str = "Europe/Brussels"


class PartnerInfo(_Reference):
    """A return partner that referrals can go to."""

    code: str
    name: str
    services: tuple[str, ...]
    email: str | None = Field(
        default=None, description="Where referral notices go; set by deployment (not published here)."
    )
    languages: tuple[Language, ...] = Field(
        default=(Language.FR, Language.NL, Language.EN), description="Languages the partner works in."
    )


class LanguageInfo(_Reference):
    """A language letters and interviews can be in."""

    code: Language
    name: str


class ReferenceData(_Reference):
    """The whole reference data set, checked for dangling codes."""

    regions: tuple[RegionInfo, ...]
    offices: tuple[OfficeInfo, ...]
    desks: tuple[WalkInDeskInfo, ...]
    partners: tuple[PartnerInfo, ...]
    languages: tuple[LanguageInfo, ...]

    @model_validator(mode="after")
    def _codes_resolve(self) -> Self:
        regions = {r.code for r in self.regions}
        offices = {o.code for o in self.offices}
        for office in self.offices:
            if office.region not in regions:
                raise ValueError(f"office {office.code} names unknown region {office.region}")
        for desk in self.desks:
            if desk.office not in offices:
                raise ValueError(f"desk {desk.code} names unknown office {desk.office}")
        return self

    def region(self, code: str) -> RegionInfo | None:
        """The region with ``code``, or None."""
        return next((r for r in self.regions if r.code == code), None)

    def office(self, code: str) -> OfficeInfo | None:
        """The office with ``code``, or None."""
        return next((o for o in self.offices if o.code == code), None)

    def partner(self, code: str) -> PartnerInfo | None:
        """The return partner with ``code``, or None."""
        return next((p for p in self.partners if p.code == code), None)

    def offices_in(self, region: str) -> tuple[OfficeInfo, ...]:
        """Offices of ``region``."""
        return tuple(o for o in self.offices if o.region == region)


def _region(code: str, fr: str, nl: str, langs: tuple[Language, ...]) -> RegionInfo:
    return RegionInfo(code=code, names={Language.FR: fr, Language.NL: nl}, languages=langs)


_FR_EN = (Language.FR, Language.EN)
_NL_EN = (Language.NL, Language.EN)
_WEDNESDAY = 2

# [I] 5 regions [D] grouping the 7 offices [D]; the grouping itself is an inference.
DEFAULT_REFERENCE_DATA: Final = ReferenceData(
    regions=(
        _region("brussels", "Bruxelles", "Brussel", (Language.FR, Language.NL, Language.EN)),
        _region("antwerp_limburg", "Anvers-Limbourg", "Antwerpen-Limburg", _NL_EN),
        _region("east_west_flanders", "Flandre", "Oost- en West-Vlaanderen", _NL_EN),
        _region("liege", "Liège", "Luik", (Language.FR, Language.DE, Language.EN)),
        _region("namur_luxembourg", "Namur-Luxembourg", "Namen-Luxemburg", _FR_EN),
    ),
    offices=(
        # street addresses: the three published by the programme (its walk-in desks); others by deployment
        OfficeInfo(
            code="brussels",
            region="brussels",
            city="Bruxelles",
            opened="2021-10",
            address="Boulevard Pachéco 44",
            postal_code="1000",
        ),
        OfficeInfo(
            code="antwerp",
            region="antwerp_limburg",
            city="Antwerpen",
            address="Italiëlei 4/bus 1",
            postal_code="2000",
        ),
        OfficeInfo(code="hasselt", region="antwerp_limburg", city="Hasselt"),
        OfficeInfo(code="ghent", region="east_west_flanders", city="Gent"),
        OfficeInfo(
            code="liege", region="liege", city="Liège", address="Rue de Fragnée 2", postal_code="4000"
        ),
        OfficeInfo(code="namur", region="namur_luxembourg", city="Namur"),
        OfficeInfo(code="neufchateau", region="namur_luxembourg", city="Neufchâteau"),
    ),
    desks=(
        WalkInDeskInfo(
            code="brussels_pacheco",
            office="brussels",
            address="Boulevard Pachéco 44",
            postal_code="1000",
            municipality="Bruxelles",
            weekday=_WEDNESDAY,
            opens=time(9),
            closes=time(12),
        ),
        WalkInDeskInfo(
            code="antwerp_italielei",
            office="antwerp",
            address="Italiëlei 4/bus 1",
            postal_code="2000",
            municipality="Antwerpen",
            weekday=_WEDNESDAY,
            opens=time(9),
            closes=time(12),
        ),
        WalkInDeskInfo(
            code="liege_fragnee",
            office="liege",
            address="Rue de Fragnée 2",
            postal_code="4000",
            municipality="Liège",
            weekday=_WEDNESDAY,
            opens=time(9),
            closes=time(12),
        ),
    ),
    partners=(
        PartnerInfo(
            code="fedasil",
            name="Fedasil",
            services=("voluntary_return_programme", "return_desk", "open_return_place"),
        ),
        PartnerInfo(code="iom", name="IOM", services=("journey", "reintegration_support")),
        PartnerInfo(
            code="caritas_international",
            name="Caritas International",
            services=("reintegration_support",),
        ),
    ),
    languages=(
        LanguageInfo(code=Language.FR, name="Français"),
        LanguageInfo(code=Language.NL, name="Nederlands"),
        LanguageInfo(code=Language.DE, name="Deutsch"),
        LanguageInfo(code=Language.EN, name="English"),
    ),
)


def load_reference_data(path: Path | None = None) -> ReferenceData:
    """The defaults, with the sections of ``path`` (or ``$ICAM_REFERENCE_DATA``) replacing theirs."""
    if path is None:
        configured = os.environ.get(REFERENCE_DATA_ENV)
        if not configured:
            return DEFAULT_REFERENCE_DATA
        path = Path(configured)
    overrides = json.loads(path.read_text(encoding="utf-8"))
    merged = DEFAULT_REFERENCE_DATA.model_dump(mode="json") | overrides
    return ReferenceData.model_validate(merged)
