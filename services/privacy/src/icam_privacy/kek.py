"""The key-encryption key: what wraps every data key at rest (a port, so a KMS can hold it).

`LocalKek` wraps with AES-256-GCM under a key from configuration. A production deployment puts the
key in a KMS instead — e.g. HashiCorp Vault's Transit engine, whose `encrypt`/`decrypt` calls map
one-to-one onto `wrap`/`unwrap` here — so the key-encryption key never enters this process.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from typing import Protocol

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyEncryptionKey(Protocol):
    """Wraps and unwraps data keys; `kek_id` names the key (and version) a wrapped key needs."""

    @property
    def kek_id(self) -> str: ...

    def wrap(self, key_id: uuid.UUID, secret: bytes) -> bytes: ...

    def unwrap(self, key_id: uuid.UUID, wrapped: bytes) -> bytes: ...


class LocalKek:
    """AES-256-GCM under a configured key; the data key's id is the associated data, so a wrapped
    key cannot be swapped onto another key's row."""

    def __init__(self, secret: bytes) -> None:
        self._aead = AESGCM(secret)
        self._id = "local:" + hashlib.sha256(secret).hexdigest()[:12]

    @property
    def kek_id(self) -> str:
        return self._id

    def wrap(self, key_id: uuid.UUID, secret: bytes) -> bytes:
        nonce = os.urandom(12)
        return nonce + self._aead.encrypt(nonce, secret, key_id.bytes)

    def unwrap(self, key_id: uuid.UUID, wrapped: bytes) -> bytes:
        return self._aead.decrypt(wrapped[:12], wrapped[12:], key_id.bytes)
