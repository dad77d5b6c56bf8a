"""Settings of the privacy service, from the environment with defaults (the table of variables
is in the service's README: key-encryption key, retention periods, reporting services, grants)."""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from icam_contracts.topics import (
    CASE_EVENTS,
    INVITATION_EVENTS,
    NOTIFICATION_EVENTS,
    PRIVACY_EVENTS,
    REFERRAL_EVENTS,
)
from icam_kernel.service import ServiceSettings

SERVICE = "privacy"
MIGRATIONS = Path(__file__).parent / "migrations"
REPORTING = ("invitation", "case", "referral", "notification")
DEFAULT_URLS = {
    "invitation": "http://127.0.0.1:8101",
    "case": "http://127.0.0.1:8102",
    "referral": "http://127.0.0.1:8103",
    "notification": "http://127.0.0.1:8104",
}


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Topics:
    privacy: str = PRIVACY_EVENTS
    invitation: str = INVITATION_EVENTS
    case: str = CASE_EVENTS
    referral: str = REFERRAL_EVENTS
    notification: str = NOTIFICATION_EVENTS

    @classmethod
    def prefixed(cls, prefix: str) -> Topics:
        return cls(*(prefix + name for name in cls().__dict__.values()))


@dataclass
class PrivacySettings:
    """Everything the privacy service is configured with; tests build one directly."""

    service: ServiceSettings
    kek: bytes
    topics: Topics = field(default_factory=Topics)
    retain_closed: timedelta = timedelta(days=730)
    retain_unanswered: timedelta = timedelta(days=365)
    reporting: tuple[str, ...] = REPORTING
    subscriber_grants: frozenset[str] = frozenset()
    service_urls: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_URLS))
    clock: Callable[[], datetime] = utc_now

    @classmethod
    def from_env(cls) -> PrivacySettings:
        env = os.environ
        grants = frozenset(
            g.strip() for g in env.get("PRIVACY_SUBSCRIBER_GRANTS", "").split(",") if g.strip()
        )
        return cls(
            service=ServiceSettings.from_env(default_name=SERVICE),
            kek=key_encryption_key(env),
            topics=Topics.prefixed(env.get("ICAM_TOPIC_PREFIX", "")),
            retain_closed=timedelta(days=float(env.get("PRIVACY_RETAIN_CLOSED_DAYS", "730"))),
            retain_unanswered=timedelta(days=float(env.get("PRIVACY_RETAIN_UNANSWERED_DAYS", "365"))),
            reporting=tuple(
                s.strip() for s in env.get("PRIVACY_REPORTING_SERVICES", ",".join(REPORTING)).split(",") if s
            ),
            subscriber_grants=grants,
            service_urls={s: env.get(f"{s.upper()}_URL", url) for s, url in DEFAULT_URLS.items()},
        )


def key_encryption_key(env: dict[str, str] | os._Environ[str]) -> bytes:
    """`PRIVACY_KEK`, else the development key file (created once, readable by its owner only)."""
    if given := env.get("PRIVACY_KEK"):
        kek = base64.b64decode(given)
    else:
        home = Path(env.get("ICAM_HOME", ".icam"))
        path = Path(env.get("PRIVACY_KEK_FILE", str(home / "privacy" / "kek")))
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(base64.b64encode(os.urandom(32)).decode())
        kek = base64.b64decode(path.read_text().strip())
    if len(kek) != 32:
        raise ValueError("the key-encryption key must be 32 bytes (AES-256), base64-encoded")
    return kek
