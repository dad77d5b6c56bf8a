"""Subject access (GDPR art. 15), the part every service answers: everything it holds about one
person — the events of their households, opened, and the rows of its read models.

    caseload = StoreQuery("caseload", "select * from caseload where household_id = any($2)")
    router = subject_data_router("case", caseload)

Each query gets `$1` = the dossier reference and `$2` = the ids of the person's households (found
in this service's own events). Only the data-protection officer may call it (the route table),
and only the privacy service does, to compose the export.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from fastapi import Request

from icam_auth.fastapi import CurrentPrincipal
from icam_kernel import sealing
from icam_kernel.db import Connection
from icam_kernel.http_queries import App
from icam_kernel.routing import PolicyRouter

# Households whose events name the person anywhere (members, attendees, recipients, documents).
_HOUSEHOLDS = """
select distinct (data->>'household_id')::uuid as household_id from events
where jsonb_path_exists(data, '$.** ? (@.person_id == $p || @.recipient_id == $p)',
                        jsonb_build_object('p', $1::text))
"""
_EVENTS = """
select event_id, stream_id, event_type, event_version, occurred_at, data::text as data from events
where (data->>'household_id')::uuid = any($1) order by global_position
"""


@dataclass(frozen=True)
class StoreQuery:
    """One read model of the service and the rows of it that concern the person."""

    store: str
    sql: str


def _bound(sql: str) -> str:
    """The query with both parameters typed, whichever of them it uses."""
    return f"select q.* from ({sql}) q where $1::text is not null and $2::uuid[] is not null"


def _plain(row: Any) -> dict[str, Any]:
    """A row as JSON-ready values (binary content is described, never exported inline)."""
    return {
        k: f"<{len(v)} bytes>" if isinstance(v, bytes) else str(v) if isinstance(v, UUID) else v
        for k, v in dict(row).items()
    }


async def subject_data(conn: Connection, person_id: str, stores: Sequence[StoreQuery]) -> dict[str, Any]:
    """The person's households, their events (personal data opened) and each store's rows."""
    households = [r["household_id"] for r in await conn.fetch(_HOUSEHOLDS, person_id)]
    rows = await conn.fetch(_EVENTS, households)
    payloads = await sealing.open_all([json.loads(r["data"]) for r in rows])
    events = [
        {**_plain(r), "data": data} | {"occurred_at": r["occurred_at"].isoformat()}
        for r, data in zip(rows, payloads, strict=True)
    ]
    held = {
        s.store: [_plain(r) for r in await conn.fetch(_bound(s.sql), person_id, households)] for s in stores
    }
    return {"household_ids": [str(h) for h in households], "events": events, "stores": held}


def subject_data_router(service: str, *stores: StoreQuery) -> PolicyRouter:
    router = PolicyRouter(service, tags=["subject access"])

    @router.get("/subject-data/{person_id}", summary="Everything this service holds about a person")
    async def export(person_id: str, request: Request, app: App, _: CurrentPrincipal) -> dict[str, Any]:
        async with app.pool.acquire() as conn:
            found = await subject_data(conn, person_id, stores)
        return {"service": service, "person_id": person_id, **found}

    return router
