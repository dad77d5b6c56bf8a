"""Which ICAM office (and so which region) serves a Belgian postal code.

Belgian postal codes are allocated by province, so a table of ranges finds the province; each
province is served by the nearest ICAM office. The table is configuration (``PostalRange`` rows,
overridable by a JSON file); the default covers every code from 1000 to 9999:

=============  ==================================  ============  =============================
codes          province                            office        why
=============  ==================================  ============  =============================
1000-1299      Brussels-Capital                    brussels      in the city
1300-1499      Walloon Brabant                     brussels      Wavre-Brussels ~25 km
1500-1999      Flemish Brabant (Halle-Vilvoorde)   brussels      around Brussels
2000-2999      Antwerp                             antwerp       in the province
3000-3499      Flemish Brabant (Leuven)            brussels      Leuven-Brussels ~25 km
3500-3999      Limburg                             hasselt       in the province
4000-4999      Liège (incl. German-speaking area)  liege         in the province; DE letters
5000-5999      Namur                               namur         in the province
6000-6599      Hainaut (Charleroi area)            namur         Charleroi-Namur ~35 km
6600-6999      Luxembourg                          neufchateau   in the province
7000-7999      Hainaut (Mons, Tournai, La Louvière) brussels     Mons-Brussels ~60 km, French
8000-8999      West Flanders                       ghent         Bruges-Ghent ~45 km
9000-9999      East Flanders                       ghent         in the province
=============  ==================================  ============  =============================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from icam_contracts.enums import Language
from icam_contracts.reference import ReferenceData
from icam_invitation.domain.errors import AddressNotServed, InvalidCommand


@dataclass(frozen=True)
class PostalRange:
    """Postal codes ``first``-``last`` (inclusive) lie in ``province`` and go to ``office``."""

    first: int
    last: int
    province: str
    office: str


DEFAULT_POSTAL_RANGES: Final[tuple[PostalRange, ...]] = (
    PostalRange(1000, 1299, "brussels_capital", "brussels"),
    PostalRange(1300, 1499, "walloon_brabant", "brussels"),
    PostalRange(1500, 1999, "flemish_brabant", "brussels"),
    PostalRange(2000, 2999, "antwerp", "antwerp"),
    PostalRange(3000, 3499, "flemish_brabant", "brussels"),
    PostalRange(3500, 3999, "limburg", "hasselt"),
    PostalRange(4000, 4999, "liege", "liege"),
    PostalRange(5000, 5999, "namur", "namur"),
    PostalRange(6000, 6599, "hainaut", "namur"),
    PostalRange(6600, 6999, "luxembourg", "neufchateau"),
    PostalRange(7000, 7999, "hainaut", "brussels"),
    PostalRange(8000, 8999, "west_flanders", "ghent"),
    PostalRange(9000, 9999, "east_flanders", "ghent"),
)


@dataclass(frozen=True)
class OfficeFinder:
    """Finds the office of a postal code; ``region_of_office`` comes from the reference data."""

    ranges: tuple[PostalRange, ...]
    region_of_office: dict[str, str]
    languages_of_region: dict[str, tuple[Language, ...]]

    def region_of(self, office: str, field: str) -> str:
        """The region of a known ``office``; 422 naming ``field`` otherwise."""
        region = self.region_of_office.get(office)
        if region is None:
            raise InvalidCommand(f"unknown office {office!r}", field)
        return region

    def language_for(self, region: str, preferred: Language | None) -> Language:
        """The preferred language when the region writes in it (English always), else the region's
        first official language."""
        offered = self.languages_of_region.get(region, (Language.FR, Language.NL, Language.EN))
        if preferred is not None and (preferred in offered or preferred is Language.EN):
            return preferred
        return offered[0]

    def office_for(self, postal_code: str | None, country: str | None, address_field: str) -> tuple[str, str]:
        """(office, region) serving a Belgian ``postal_code``; errors name ``address_field``'s parts."""
        if country is not None and country != "BE":
            raise AddressNotServed(
                f"{country} is not Belgium: ICAM serves Belgian addresses only", f"{address_field}.country"
            )
        field = f"{address_field}.postal_code"
        if not postal_code or not postal_code.strip():
            raise AddressNotServed("a Belgian postal code is needed to choose the office", field)
        code = postal_code.strip()
        if not (code.isdigit() and len(code) == 4):
            raise AddressNotServed(f"{code!r} is not a Belgian postal code (four digits)", field)
        number = int(code)
        for postal_range in self.ranges:
            if postal_range.first <= number <= postal_range.last:
                region = self.region_of_office.get(postal_range.office)
                if region is None:
                    raise AddressNotServed(
                        f"office {postal_range.office} is not in the reference data", field
                    )
                return postal_range.office, region
        raise AddressNotServed(f"no ICAM office serves postal code {code}", field)


def office_finder(
    reference: ReferenceData, ranges: tuple[PostalRange, ...] = DEFAULT_POSTAL_RANGES
) -> OfficeFinder:
    """An office finder over the shared reference data (offices, regions and their languages)."""
    return OfficeFinder(
        ranges=ranges,
        region_of_office={o.code: o.region for o in reference.offices},
        languages_of_region={r.code: r.languages for r in reference.regions},
    )
