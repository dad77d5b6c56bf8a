"""Gateway settings from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

SERVICES = ("invitation", "case", "referral", "notification", "privacy")


def _default_urls() -> dict[str, str]:
    ports = {"invitation": 8101, "case": 8102, "referral": 8103, "notification": 8104, "privacy": 8107}
    return {
        name: os.environ.get(f"{name.upper()}_URL", f"http://127.0.0.1:{port}")
        for name, port in ports.items()
    }


@dataclass(frozen=True)
class GatewaySettings:
    database_url: str = field(default_factory=lambda: os.environ.get("DATABASE_URL", ""))
    service_urls: dict[str, str] = field(default_factory=_default_urls)
    connect_timeout: float = field(
        default_factory=lambda: float(os.environ.get("GATEWAY_CONNECT_TIMEOUT", "2"))
    )
    read_timeout: float = field(default_factory=lambda: float(os.environ.get("GATEWAY_READ_TIMEOUT", "10")))
    # the local issuer's JWKS file, served at /.well-known/jwks.json for other consumers
    jwks_file: str = field(default_factory=lambda: os.environ.get("ICAM_AUTH_JWKS", ""))
    issuer: str = field(default_factory=lambda: os.environ.get("ICAM_AUTH_ISSUER", "icam-local"))
