"""What the referral service forgets when a person is erased: the members it keeps in clear for
the partners (in the case households it follows and in the referral view), and the partner's free
texts about the household."""

from __future__ import annotations

from icam_contracts.events import PersonalDataErased
from icam_kernel.db import Connection
from icam_kernel.erasure import Purge
from icam_kernel.subject_data import StoreQuery

# every member reduced to its reference and minority: who they are is gone, the counts stay
_REFERENCES_ONLY = """(select coalesce(jsonb_agg(jsonb_build_object('person_id', m->'person_id',
    'is_minor', m->'is_minor')), '[]'::jsonb) from jsonb_array_elements(members) m)"""


def _rows(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def blank_households(conn: Connection, erased: PersonalDataErased) -> int:
    return _rows(
        await conn.execute(
            f"update households set members = {_REFERENCES_ONLY} where household_id = any($1::uuid[])",
            list(erased.household_ids),
        )
    )


async def blank_referrals(conn: Connection, erased: PersonalDataErased) -> int:
    return _rows(
        await conn.execute(
            f"""update referral_view set members = {_REFERENCES_ONLY}, partner_reference = null,
                   reject_reason = case when reject_reason is null then null else '[erased]' end
               where household_id = any($1::uuid[])""",
            list(erased.household_ids),
        )
    )


PURGES = (Purge("households.members", blank_households), Purge("referral_view", blank_referrals))

SUBJECT_DATA = (
    StoreQuery("households", "select * from households where household_id = any($2)"),
    StoreQuery("referral_view", "select * from referral_view where household_id = any($2)"),
)
