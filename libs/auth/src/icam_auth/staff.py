"""Made-up staff of every role and region, for the local OpenID provider's sign-in page and the demo.

The subjects are the ones `icam up --demo` books interviews and referrals for, so signing in as one
of them shows a workspace with content. No real person: the names say so in the platform's languages.
"""

from __future__ import annotations

from dataclasses import dataclass

from icam_auth.principal import Principal, Role

REGIONS = ("brussels", "antwerp_limburg", "east_west_flanders", "liege", "namur_luxembourg")
PARTNERS = {"fedasil": "Fedasil", "iom": "IOM", "caritas_international": "Caritas International"}
COACHES_PER_REGION = 3
_GIVEN = ("Alex", "Sam", "Noor", "Robin", "Kim", "Lou", "Yari", "Mika", "Dani", "Jo", "Charlie", "Ilse")
_FAMILY = ("Exemple", "Voorbeeld", "Beispiel", "Fictif", "Verzonnen", "Erfunden", "Sample", "Madeup")


@dataclass(frozen=True)
class StaffMember:
    """Someone who can sign in locally: who they are, and the claims their tokens carry."""

    principal: Principal
    name: str

    @property
    def subject(self) -> str:
        return self.principal.subject


def _name(n: int) -> str:
    return f"{_GIVEN[n % len(_GIVEN)]} {_FAMILY[(n * 5 + 3) % len(_FAMILY)]}"


def directory() -> tuple[StaffMember, ...]:
    """Every made-up staff member: coaches and a team lead per region, one user per return partner,
    an operations viewer, an auditor and an administrator."""
    people: list[StaffMember] = []
    for r, region in enumerate(REGIONS):
        for n in range(1, COACHES_PER_REGION + 1):
            coach = Principal(f"demo-coach-{region}-{n}", Role.COACH, region=region)
            people.append(StaffMember(coach, _name(r * 4 + n)))
        lead = Principal(f"demo-lead-{region}", Role.TEAM_LEAD, region=region)
        people.append(StaffMember(lead, _name(r * 4)))
    for p, code in enumerate(PARTNERS):
        partner = Principal(f"demo-partner-{code}", Role.RETURN_PARTNER, organisation=code)
        people.append(StaffMember(partner, _name(40 + p)))
    people.append(StaffMember(Principal("demo-ops", Role.OPS_VIEWER), _name(50)))
    people.append(StaffMember(Principal("demo-auditor", Role.AUDITOR), _name(51)))
    people.append(StaffMember(Principal("demo-admin", Role.ADMIN), _name(52)))
    return tuple(people)


def find(subject: str) -> StaffMember | None:
    return next((s for s in directory() if s.subject == subject), None)
