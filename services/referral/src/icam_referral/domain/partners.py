"""The partner catalogue and the deterministic rules that choose a partner for a referral.

Partner codes come from the shared reference data (`icam_contracts.reference`); this module adds
what only the referral service needs: each partner's role in a voluntary return, the regions it
serves, the languages it works in, its contact address and its acknowledgement deadline. A
deployment replaces the catalogue with a JSON file (see `config.py`).

Selection rules, in order (the chosen partner's event states which applied):
1. a partner is *suitable* when it serves the household's region, works in the household's
   language or in English, and has not already declined a referral for the same decision;
2. the person's (or coach's) preferred partner wins when it is suitable;
3. otherwise the suitable partners are ranked by role (voluntary-return programme, then journey
   organisation, then reintegration support), then by language (the household's own language
   before English), then by catalogue order, then by code — so the choice never depends on
   timing or on dictionary order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from icam_contracts.enums import Language
from icam_contracts.reference import ReferenceData


class PartnerRole(StrEnum):
    """What a partner does in a voluntary return, in the order referrals prefer."""

    VOLUNTARY_RETURN_PROGRAMME = "voluntary_return_programme"
    JOURNEY_ORGANISATION = "journey_organisation"
    REINTEGRATION_SUPPORT = "reintegration_support"


_ROLE_RANK = {role: rank for rank, role in enumerate(PartnerRole)}
ALL_REGIONS = "*"

# Reference data names services; these are the roles they amount to for a referral.
_ROLE_OF_SERVICE = {
    "voluntary_return_programme": PartnerRole.VOLUNTARY_RETURN_PROGRAMME,
    "return_desk": PartnerRole.VOLUNTARY_RETURN_PROGRAMME,
    "open_return_place": PartnerRole.VOLUNTARY_RETURN_PROGRAMME,
    "journey": PartnerRole.JOURNEY_ORGANISATION,
    "journey_organisation": PartnerRole.JOURNEY_ORGANISATION,
    "reintegration_support": PartnerRole.REINTEGRATION_SUPPORT,
}


@dataclass(frozen=True)
class PartnerProfile:
    """One return partner as the referral service sees it."""

    code: str
    name: str
    roles: tuple[PartnerRole, ...]
    regions: tuple[str, ...]
    languages: tuple[Language, ...]
    contact_email: str | None
    acknowledge_within_working_days: int

    def serves(self, region: str) -> bool:
        """Whether the partner takes households of `region`."""
        return ALL_REGIONS in self.regions or region in self.regions

    @property
    def best_role(self) -> PartnerRole:
        """The partner's role that ranks highest for a referral."""
        return min(self.roles, key=_ROLE_RANK.__getitem__)


# [I] Working days a partner has to acknowledge a referral, until each partner confirms its own.
_DEFAULT_DEADLINES = {"fedasil": 5, "iom": 5, "caritas_international": 10}
_FALLBACK_DEADLINE = 10


def default_catalogue(reference: ReferenceData) -> tuple[PartnerProfile, ...]:
    """The reference data's partners (names, languages, e-mail), roles mapped from their services.

    Reference partners whose services include no referral role are left out; every partner
    serves every region until a deployment's catalogue says otherwise.
    """
    profiles = []
    for partner in reference.partners:
        roles = tuple(dict.fromkeys(_ROLE_OF_SERVICE[s] for s in partner.services if s in _ROLE_OF_SERVICE))
        if not roles:
            continue
        profiles.append(
            PartnerProfile(
                code=partner.code,
                name=partner.name,
                roles=roles,
                regions=(ALL_REGIONS,),
                languages=partner.languages,
                contact_email=partner.email,
                acknowledge_within_working_days=_DEFAULT_DEADLINES.get(partner.code, _FALLBACK_DEADLINE),
            )
        )
    return tuple(profiles)


@dataclass(frozen=True)
class PartnerChoice:
    """The partner chosen for a referral and why, in words the event carries."""

    partner: PartnerProfile
    reason: str


class PartnerCatalogue:
    """The return partners referrals can go to, in catalogue order."""

    def __init__(self, partners: Iterable[PartnerProfile]) -> None:
        self.partners = tuple(partners)
        codes = [p.code for p in self.partners]
        if len(set(codes)) != len(codes):
            raise ValueError("partner codes must be unique in the catalogue")

    def get(self, code: str) -> PartnerProfile | None:
        """The partner with `code`, or None."""
        return next((p for p in self.partners if p.code == code), None)

    def choose(
        self,
        *,
        region: str,
        language: Language,
        preferred: str | None = None,
        declined_by: Sequence[str] = (),
    ) -> PartnerChoice | None:
        """The partner a referral goes to under the selection rules, or None when none is suitable."""
        suitable = [p for p in self.partners if self._suitable(p, region, language, declined_by)]
        if not suitable:
            return None
        declined = f"; declined before: {', '.join(declined_by)}" if declined_by else ""
        chosen = next((p for p in suitable if p.code == preferred), None)
        if chosen is not None:
            return PartnerChoice(
                chosen, f"preferred partner; {self._why(chosen, region, language)}{declined}"
            )
        order = {p.code: n for n, p in enumerate(self.partners)}
        ranked = sorted(
            suitable,
            key=lambda p: (_ROLE_RANK[p.best_role], language not in p.languages, order[p.code], p.code),
        )
        chosen = ranked[0]
        passed_over = self._passed_over(preferred, region, language, declined_by)
        reason = f"ranked first of {len(ranked)} suitable; {self._why(chosen, region, language)}"
        return PartnerChoice(chosen, reason + passed_over + declined)

    @staticmethod
    def _suitable(
        partner: PartnerProfile, region: str, language: Language, declined_by: Sequence[str]
    ) -> bool:
        speaks = language in partner.languages or Language.EN in partner.languages
        return partner.serves(region) and speaks and partner.code not in declined_by

    @staticmethod
    def _why(partner: PartnerProfile, region: str, language: Language) -> str:
        spoken = language if language in partner.languages else f"{Language.EN} (not {language})"
        return f"role {partner.best_role}; serves {region}; speaks {spoken}"

    def _passed_over(
        self, preferred: str | None, region: str, language: Language, declined: Sequence[str]
    ) -> str:
        if preferred is None:
            return ""
        partner = self.get(preferred)
        if partner is None:
            return f"; preferred partner {preferred} is not in the catalogue"
        if preferred in declined:
            return f"; preferred partner {preferred} declined"
        if not partner.serves(region):
            return f"; preferred partner {preferred} does not serve {region}"
        return f"; preferred partner {preferred} does not speak {language} or en"
