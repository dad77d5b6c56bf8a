"""A small local token issuer for development, demos and tests (production uses the real IdP).

The key pair lives under the platform's state folder, so tokens stay valid across restarts; the
JWKS is written next to it for services to read and served by the gateway.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from icam_auth.principal import Principal
from icam_auth.verify import DEFAULT_AUDIENCE

LOCAL_ISSUER = "icam-local"


class LocalIssuer:
    """Mints RS256 tokens for ICAM roles with a key pair kept in `folder`."""

    def __init__(self, folder: Path, issuer: str = LOCAL_ISSUER, audience: str = DEFAULT_AUDIENCE) -> None:
        self.folder = folder
        self.issuer = issuer
        self.audience = audience
        self._private_key = self._load_or_create()
        self.key_id = self._kid()

    @property
    def jwks_path(self) -> Path:
        return self.folder / "jwks.json"

    def _load_or_create(self) -> rsa.RSAPrivateKey:
        pem = self.folder / "issuer-key.pem"
        if pem.exists():
            key = serialization.load_pem_private_key(pem.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey)
            return key
        self.folder.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pem.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        pem.chmod(0o600)
        return key

    def _kid(self) -> str:
        public = self._private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return uuid.uuid5(uuid.NAMESPACE_OID, public.hex()).hex[:16]

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._private_key.public_key()))
        jwk.update({"kid": self.key_id, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def write_jwks(self) -> Path:
        self.jwks_path.write_text(json.dumps(self.jwks(), indent=2))
        return self.jwks_path

    def sign(self, claims: dict[str, Any]) -> str:
        """Any claims signed with this issuer's key (the local OpenID provider's ID tokens)."""
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.key_id})

    def mint(self, principal: Principal, ttl_seconds: int = 8 * 3600) -> str:
        now = int(time.time())
        claims = principal.claims() | {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + ttl_seconds,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.key_id})
