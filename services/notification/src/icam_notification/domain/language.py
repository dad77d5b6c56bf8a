"""Which language a person is written to in.

Rule (DOMAIN.md, "language criticism"): the person's own preferred language when it is one we
write in (FR, NL, DE, EN); else the official language of where they live; else English. The
language used is recorded in every NotificationSent / NotificationFailed.
"""

from __future__ import annotations

from typing import Final

from icam_contracts.enums import Language
from icam_contracts.reference import RegionInfo

# [I] The German-speaking community (Eupen, Kelmis, Lontzen, Raeren, Bütgenbach, Büllingen, Amel,
# Sankt Vith, Burg-Reuland) lies inside the Liège region and has postal codes 4700-4799.
GERMAN_SPEAKING_POSTAL_CODES: Final = range(4700, 4800)
FALLBACK: Final = Language.EN


def official_language(region: RegionInfo | None, postal_code: str | None) -> Language | None:
    """The official language where the person lives: the German-speaking community by postal
    code, else the region's first letter language (Brussels FR, Flanders NL, Wallonia FR)."""
    code = (postal_code or "").strip()
    if code.isdigit() and int(code) in GERMAN_SPEAKING_POSTAL_CODES:
        return Language.DE
    if region is None:
        return None
    official = [language for language in region.languages if language is not Language.EN]
    return official[0] if official else None


def choose_language(
    preferred: Language | str | None,
    region: RegionInfo | None = None,
    postal_code: str | None = None,
) -> Language:
    """The language to write in: preferred if we write in it, else official, else English."""
    if preferred is not None:
        try:
            return Language(preferred)
        except ValueError:
            pass  # a language we have no templates for: fall through to the official language
    return official_language(region, postal_code) or FALLBACK
