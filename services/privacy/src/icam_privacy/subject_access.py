"""Subject access (GDPR art. 15): everything the platform holds about one person, from every
service, as JSON and as a readable PDF."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from anyascii import anyascii
from fpdf import FPDF

from icam_kernel.db import Connection

UNICODE_FONTS = (
    Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"),
    Path("/usr/share/fonts/dejavu/DejaVuSans.ttf"),
)


async def own_records(conn: Connection, person_id: str) -> dict[str, Any]:
    """What the privacy service itself holds: households, key history (never a secret), erasures,
    holds."""
    households = await conn.fetch(
        """select h.household_id, h.first_seen_at, h.last_contact_at, h.case_open, h.closed_at
           from households h join household_members m using (household_id) where m.person_id = $1""",
        person_id,
    )
    ids = [r["household_id"] for r in households]
    subjects = [f"person:{person_id}", *(f"household:{h}" for h in ids)]
    key_rows = await conn.fetch(
        "select key_id, subject, created_at, destroyed_at from data_keys where subject = any($1)", subjects
    )
    holds = await conn.fetch("select * from holds where household_id = any($1)", ids)
    return {
        "households": [_plain(r) for r in households],
        "data_keys": [_plain(r) for r in key_rows],
        "holds": [_plain(r) for r in holds],
    }


def _plain(row: Any) -> dict[str, Any]:
    return {
        k: v.isoformat()
        if isinstance(v, datetime)
        else str(v)
        if v is not None and not isinstance(v, bool | int)
        else v
        for k, v in dict(row).items()
    }


async def from_services(
    client: httpx.AsyncClient, urls: dict[str, str], person_id: str, authorization: str
) -> dict[str, Any]:
    """Each service's `/subject-data/{person_id}`, read with the DPO's own token, side by side."""

    async def one(service: str, url: str) -> tuple[str, Any]:
        try:
            response = await client.get(
                f"{url}/subject-data/{person_id}",
                headers={"authorization": authorization, "x-purpose": "subject access request"},
            )
        except httpx.HTTPError as error:
            return service, {"unavailable": type(error).__name__}
        if response.status_code != 200:
            return service, {"unavailable": f"HTTP {response.status_code}"}
        return service, response.json()

    pairs = await asyncio.gather(*(one(s, u) for s, u in urls.items()))
    return dict(pairs)


def export(person_id: str, own: dict[str, Any], services: dict[str, Any]) -> dict[str, Any]:
    return {
        "person_id": person_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "privacy": own,
        "services": services,
    }


def known(document: dict[str, Any]) -> bool:
    """Whether anything at all is held about the person."""
    if document["privacy"]["households"]:
        return True
    return any(s.get("household_ids") for s in document["services"].values())


def pdf(document: dict[str, Any]) -> bytes:
    """The export as a readable PDF: one section per service, one line per event or record."""
    doc = FPDF(format="A4", unit="mm")
    text = _font(doc)
    doc.add_page()
    doc.set_font_size(14)
    doc.multi_cell(0, 7, text(f"Subject access export — dossier reference {document['person_id']}"))
    doc.set_font_size(9)
    doc.multi_cell(0, 5, text(f"Exported {document['exported_at']} (GDPR art. 15)"))
    _section(doc, text, "Privacy service", document["privacy"])
    for service, held in document["services"].items():
        _section(doc, text, f"{service} service", held)
    return bytes(doc.output())


def _font(doc: FPDF) -> Any:
    """A Unicode font when the machine has one (names in any script); else Latin transliteration."""
    for path in UNICODE_FONTS:
        if path.exists():
            doc.add_font("Unicode", fname=str(path))
            doc.set_font("Unicode", size=9)
            return lambda value: value
    doc.set_font("helvetica", size=9)
    return lambda value: anyascii(value).encode("latin-1", "replace").decode("latin-1")


def _section(doc: FPDF, text: Any, title: str, held: dict[str, Any]) -> None:
    doc.ln(3)
    doc.set_font_size(12)
    doc.multi_cell(0, 6, text(title))
    doc.set_font_size(8)
    for event in held.get("events", []):
        line = (
            f"{event['occurred_at']}  {event['event_type']}: {json.dumps(event['data'], ensure_ascii=False)}"
        )
        doc.multi_cell(0, 4, text(line), new_x="LMARGIN", new_y="NEXT")
    for store, rows in {
        **held.get("stores", {}),
        **{k: v for k, v in held.items() if k in ("households", "data_keys", "holds")},
    }.items():
        for row in rows:
            doc.multi_cell(
                0,
                4,
                text(f"[{store}] {json.dumps(row, ensure_ascii=False, default=str)}"),
                new_x="LMARGIN",
                new_y="NEXT",
            )
    if "unavailable" in held:
        doc.multi_cell(0, 4, text(f"not available: {held['unavailable']}"), new_x="LMARGIN", new_y="NEXT")
