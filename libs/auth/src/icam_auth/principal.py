"""The caller of a command or query, as the bearer token describes them."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    """What a caller may do; see the README of libs/auth for the matrix."""

    COACH = "coach"
    TEAM_LEAD = "team_lead"
    RETURN_PARTNER = "return_partner"
    OPS_VIEWER = "ops_viewer"
    AUDITOR = "auditor"
    ADMIN = "admin"
    DATA_PROTECTION_OFFICER = "data_protection_officer"
    SYSTEM = "system"
    SERVICE = "service"  # a platform service (workload identity): key custody only
    SUBSCRIBER = "subscriber"  # an external system reading the topics: key custody, if granted


# Roles that may see personal data at all (always within their region or organisation).
PERSONAL_DATA_ROLES = frozenset({Role.COACH, Role.TEAM_LEAD, Role.RETURN_PARTNER, Role.ADMIN})


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: coaches and team leads work in a region, partners for an organisation."""

    subject: str
    role: Role
    region: str | None = None
    organisation: str | None = None

    @classmethod
    def from_claims(cls, claims: dict[str, Any]) -> Principal:
        return cls(
            subject=str(claims["sub"]),
            role=Role(claims["role"]),
            region=claims.get("region"),
            organisation=claims.get("organisation"),
        )

    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = {"sub": self.subject, "role": self.role.value}
        if self.region:
            claims["region"] = self.region
        if self.organisation:
            claims["organisation"] = self.organisation
        return claims

    @property
    def may_see_personal_data(self) -> bool:
        return self.role in PERSONAL_DATA_ROLES

    def works_in(self, region: str) -> bool:
        """Coaches and team leads see their own region; admins and the system see all."""
        if self.role in (Role.ADMIN, Role.SYSTEM):
            return True
        return self.role in (Role.COACH, Role.TEAM_LEAD) and self.region == region

    def acts_for(self, organisation: str) -> bool:
        return self.role == Role.RETURN_PARTNER and self.organisation == organisation

    def as_actor(self) -> dict[str, str | None]:
        """The `actor` of the events this caller causes."""
        return {"id": self.subject, "role": self.role.value, "organisation": self.organisation}
