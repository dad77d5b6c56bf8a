"""The documents' content, and the short-lived links through which it is viewed.

* `DocumentStore` is the port: the case service keeps contents in its own PostgreSQL by default
  (`PostgresDocumentStore`, in the command's transaction, so a content exists exactly when its
  `DocumentAdded` does); an S3-compatible store is the production alternative (README).
* The type of a file is read from its bytes (`filetype`), never from its name or declared type.
* A view goes through a link that names the document, the viewer and an expiry, signed with the
  service's key (HMAC-SHA256): a link is worth minutes, only to the person it was made for.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

import filetype

from icam_kernel.db import Connection
from icam_kernel.errors import DomainRuleViolation

MAX_BYTES = 20 * 1024 * 1024


class DocumentStore(Protocol):
    """Where the content of documents lives (the events only name and describe them)."""

    async def put(self, conn: Connection, case_id: UUID, document_id: UUID, content: bytes) -> None: ...

    async def get(self, conn: Connection, document_id: UUID) -> bytes | None: ...

    async def delete(self, conn: Connection, document_id: UUID) -> None: ...


class PostgresDocumentStore:
    """Contents in the case service's database, written in the transaction of the command."""

    async def put(self, conn: Connection, case_id: UUID, document_id: UUID, content: bytes) -> None:
        await conn.execute(
            "insert into document_contents (document_id, case_id, content) values ($1, $2, $3)",
            document_id,
            case_id,
            content,
        )

    async def get(self, conn: Connection, document_id: UUID) -> bytes | None:
        content = await conn.fetchval(
            "select content from document_contents where document_id = $1", document_id
        )
        return bytes(content) if content is not None else None

    async def delete(self, conn: Connection, document_id: UUID) -> None:
        await conn.execute("delete from document_contents where document_id = $1", document_id)


def content_type_of(content: bytes) -> str:
    """The type the bytes are, whatever the file was called: `application/pdf`, `image/png`…"""
    kind = filetype.guess(content[:8192])
    return kind.mime if kind is not None else "application/octet-stream"


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class LinkExpired(DomainRuleViolation):
    """The link to the document expired or was made for someone else: ask for a new one (403)."""

    status = 403
    code = "document-link-invalid"
    title = "Document link not valid"


@dataclass(frozen=True)
class Links:
    """Signs and checks view links (`CASE_DOCUMENT_LINK_KEY`; a fresh key per process if unset,
    so links do not outlive a restart)."""

    key: bytes
    lifetime_seconds: int = 300

    @classmethod
    def from_env(cls) -> Links:
        configured = os.environ.get("CASE_DOCUMENT_LINK_KEY")
        lifetime = int(os.environ.get("CASE_DOCUMENT_LINK_SECONDS", "300"))
        return cls(configured.encode() if configured else os.urandom(32), lifetime)

    def token(self, document_id: UUID, viewer: str, now: float | None = None) -> tuple[str, int]:
        expires = int((now or time.time()) + self.lifetime_seconds)
        return f"{expires}.{self._signature(document_id, viewer, expires)}", expires

    def check(self, token: str, document_id: UUID, viewer: str, now: float | None = None) -> None:
        expires, _, signature = token.partition(".")
        valid = expires.isdigit() and hmac.compare_digest(
            signature, self._signature(document_id, viewer, int(expires))
        )
        if not valid or int(expires) < (now or time.time()):
            raise LinkExpired(
                "this link to the document is no longer valid: open the document again", field="token"
            )

    def _signature(self, document_id: UUID, viewer: str, expires: int) -> str:
        message = f"{document_id}|{viewer}|{expires}".encode()
        return (
            base64.urlsafe_b64encode(hmac.new(self.key, message, hashlib.sha256).digest())
            .decode()
            .rstrip("=")
        )
