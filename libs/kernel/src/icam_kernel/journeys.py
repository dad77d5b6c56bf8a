"""One journey id per household (ADR 0004), kept in each service's `journeys` table.

The first event or command about a household that a service sees fixes the household's journey
there; everything the service later writes about the household carries it.
"""

from __future__ import annotations

import uuid

from icam_kernel.db import Connection

_REMEMBER = """insert into journeys (household_id, correlation_id) values ($1, $2)
on conflict (household_id) do nothing"""
_RECALL = "select correlation_id from journeys where household_id = $1"
# the journey remembered now, else the one known (one round trip instead of two)
_REMEMBER_OR_RECALL = f"""with remembered as ({_REMEMBER} returning correlation_id)
select correlation_id from remembered union all {_RECALL} limit 1"""


async def journey_of(
    conn: Connection, household_id: uuid.UUID, proposal: str | None, authoritative: bool
) -> str:
    """The household's journey id.

    `authoritative` (a reaction: the causing event's journey): `proposal` is used, and remembered
    when the household is new here. Otherwise (a command or a timer) the journey already known
    wins; a new household takes `proposal` (the caller's `X-Correlation-ID`), else a new id.
    """
    if authoritative and proposal:
        await conn.execute(_REMEMBER, household_id, proposal)
        return proposal
    known = await conn.fetchval(_REMEMBER_OR_RECALL, household_id, proposal or str(uuid.uuid4()))
    if known is None:  # a concurrent first contact committed after this statement's snapshot
        known = await conn.fetchval(_RECALL, household_id)
    return str(known)
