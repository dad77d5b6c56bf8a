"""A running invitation service for integration tests: real PostgreSQL, real Kafka, own topics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from icam_auth import Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_invitation.app import create_app
from icam_invitation.config import Settings
from icam_kernel.service import ServiceSettings


def settings_for(
    database_url: str, kafka: str, invitation_topic: str, case_topic: str, group: str, **overrides: Any
) -> Settings:
    """Settings pointing at a test database and test topics."""
    base = Settings(
        service=ServiceSettings("invitation", database_url, kafka, pool_size=10),
        invitation_topic=invitation_topic,
        case_topic=case_topic,
        consumer_group=group,
    )
    return replace(base, **overrides)


class Tokens:
    """Bearer headers for ICAM roles, minted by a local issuer in a temporary folder."""

    def __init__(self, folder: Path) -> None:
        self.issuer = LocalIssuer(folder)
        self.issuer.write_jwks()

    def header(self, subject: str, role: Role, region: str | None = "brussels") -> dict[str, str]:
        token = self.issuer.mint(Principal(subject=subject, role=role, region=region))
        return {"Authorization": f"Bearer {token}"}


@contextlib.asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Start the app's lifespan (pool, migrations, relay, timers, consumer); stop it on exit."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://invitation") as client:
            yield client


def fixed_clock(moment: datetime) -> Callable[[], datetime]:
    """A clock standing still at ``moment``."""
    return lambda: moment
