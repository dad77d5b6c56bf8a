"""Key custody over HTTP: services obtain the keys they seal and open with; authorised external
subscribers the keys they open with. Every request is audited (granted or refused)."""

from __future__ import annotations

import base64
import uuid
from typing import Annotated

from fastapi import Query, Request
from pydantic import BaseModel, ConfigDict, Field

from icam_auth import Forbidden, Principal, Role
from icam_auth.fastapi import CurrentPrincipal
from icam_kernel.http_queries import App, Limit, Offset
from icam_kernel.routing import PolicyRouter
from icam_privacy import keys
from icam_privacy.config import PrivacySettings
from icam_privacy.kek import KeyEncryptionKey

router = PolicyRouter("privacy", tags=["keys"])
SUBJECT = r"^(person:[A-Za-z0-9][A-Za-z0-9._/-]{0,49}|household:[0-9a-f-]{36})$"


class IssueIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    subjects: list[Annotated[str, Field(pattern=SUBJECT)]] = Field(min_length=1, max_length=500)


class ReleaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key_ids: list[uuid.UUID] = Field(min_length=1, max_length=500)


class KeyOut(BaseModel):
    key_id: uuid.UUID
    subject: str | None = Field(description="Only to the services that seal with it.")
    secret: str | None = Field(description="AES-256 key, base64; null once destroyed (erased).")


class KeysOut(BaseModel):
    keys: list[KeyOut]


def _kek(request: Request) -> KeyEncryptionKey:
    kek: KeyEncryptionKey = request.app.state.kek
    return kek


def _purpose(request: Request) -> str | None:
    return (request.headers.get("x-purpose") or "")[:200] or None


def _out(released: list[keys.Released], *, subjects: bool) -> KeysOut:
    return KeysOut(
        keys=[
            KeyOut(
                key_id=k.key_id,
                subject=k.subject if subjects else None,
                secret=base64.b64encode(k.secret).decode() if k.secret else None,
            )
            for k in released
        ]
    )


@router.post("/keys/issue", summary="The live data key of each subject, created on first use")
async def issue(body: IssueIn, request: Request, app: App, who: CurrentPrincipal) -> KeysOut:
    """For the platform's services, to seal personal data with (`person:<dossier reference>`,
    `household:<household id>`)."""
    async with app.pool.acquire() as conn, conn.transaction():
        released = await keys.issue(conn, _kek(request), body.subjects)
        await keys.audit(conn, who, "issue", _purpose(request), released)
    return _out(released, subjects=True)


def _granted(who: Principal, settings: PrivacySettings) -> bool:
    if who.role is Role.SERVICE:
        return True
    grants = settings.subscriber_grants
    return who.subject in grants or (who.organisation is not None and f"org:{who.organisation}" in grants)


@router.post("/keys/release", summary="Data keys by id, to open personal data with")
async def release(body: ReleaseIn, request: Request, app: App, who: CurrentPrincipal) -> KeysOut:
    """For the services, and for external subscribers holding a grant (`PRIVACY_SUBSCRIBER_GRANTS`);
    a destroyed key comes back without its secret: the person was erased."""
    settings: PrivacySettings = request.app.state.settings
    async with app.pool.acquire() as conn, conn.transaction():
        if not _granted(who, settings):
            refused = [keys.Released(k, None, None) for k in body.key_ids]
            await keys.audit(conn, who, "release", _purpose(request), refused, granted=False)
        else:
            released = await keys.release(conn, _kek(request), body.key_ids)
            await keys.audit(conn, who, "release", _purpose(request), released)
    if not _granted(who, settings):
        raise Forbidden("this subscriber holds no key grant (ask the data-protection officer)")
    return _out(released, subjects=who.role is Role.SERVICE)


class AccessRow(BaseModel):
    at: str
    caller: str
    role: str
    organisation: str | None
    operation: str
    purpose: str | None
    granted: bool
    keys: int
    destroyed: int


@router.get("/keys/access", summary="Who obtained which keys, newest first")
async def access_log(
    app: App,
    _: CurrentPrincipal,
    caller: Annotated[str | None, Query(max_length=200)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> list[AccessRow]:
    async with app.pool.acquire() as conn:
        rows = await conn.fetch(
            """select at, caller, role, organisation, operation, purpose, granted, keys, destroyed
               from key_access where ($1::text is null or caller = $1) order by id desc limit $2 offset $3""",
            caller,
            limit,
            offset,
        )
    return [AccessRow(**{**dict(r), "at": r["at"].isoformat()}) for r in rows]
