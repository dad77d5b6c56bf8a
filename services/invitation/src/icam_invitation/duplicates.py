"""Duplicate detection at first contact: look up people the programme met before.

Candidates come from the `people` read model by the same dossier reference, the same phonetic
name key (any spelling, any order, any alphabet), or the same birth date with a shared name
skeleton; `domain.matching` scores them. A coach sees possible existing households with the
reasons, never the names of a household outside their region.
"""

from __future__ import annotations

from collections.abc import Sequence

from icam_invitation.domain import matching
from icam_kernel.db import Connection

# A namesake born on another day cannot reach the "possible" line (the birth date weighs 0.3), so
# a name-key match is only a candidate when a birth date is missing or equal: that keeps the
# candidates of a common name ("Mohammed Ali") to a handful.
_CANDIDATES = """
select household_id, person_id, given_name, family_name, birth_date, nationality, region from people
where person_id = any($1::text[])
   or (name_key = any($2::text[])
       and (birth_date is null or cardinality($3::date[]) = 0 or birth_date = any($3::date[])))
   or (birth_date = any($3::date[]) and skeletons && $4::text[])
limit 500
"""


async def possible_households(
    conn: Connection, people: Sequence[matching.Person]
) -> list[tuple[matching.Match, str | None]]:
    """Households that likely hold one of `people`, the surest first, with each one's region."""
    refs = [p.person_id for p in people if p.person_id]
    keys = [k for k in (matching.name_key(p) for p in people) if k]
    births = [p.birth_date for p in people if p.birth_date]
    skeletons = sorted({s for p in people for s in matching.skeletons(p)})
    rows = await conn.fetch(_CANDIDATES, refs, keys, births, skeletons)
    known = [
        matching.Known(
            r["person_id"],
            r["given_name"],
            r["family_name"],
            r["birth_date"],
            r["nationality"],
            r["household_id"],
        )
        for r in rows
    ]
    regions = {r["household_id"]: r["region"] for r in rows}
    return [(m, regions.get(m.household_id)) for m in matching.likely_matches(people, known)]
