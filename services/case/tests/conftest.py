"""Fixtures of the case service's tests: a running case app on real PostgreSQL and Kafka.

One app per test module (its own database, topics and consumer group) keeps the integration suite
fast; every test works on households of its own, so tests do not see each other's cases.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from fastapi import FastAPI

from icam_auth import AuthSettings, Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_kernel.service import ServiceSettings
from icam_platform.infra import postgres

sys.path.insert(0, str(Path(__file__).parent))  # the builders beside these tests (importlib mode)


@dataclass
class CaseApp:
    """A started case app and what a test needs to talk to it."""

    app: FastAPI
    client: httpx.AsyncClient
    issuer: LocalIssuer
    settings: Any
    kafka_bootstrap: str
    database: str

    @property
    def service(self) -> Any:
        return self.app.state.application

    def headers(
        self,
        role: str = "coach",
        subject: str = "coach-4711",
        region: str | None = "brussels",
        organisation: str | None = None,
    ) -> dict[str, str]:
        """Authorization for a caller of `role`, e.g. the assigned coach of Brussels by default."""
        principal = Principal(subject=subject, role=Role(role), region=region, organisation=organisation)
        return {"Authorization": f"Bearer {self.issuer.mint(principal)}"}


async def create_topics(bootstrap: str, names: list[str], partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, 1) for name in names])
    finally:
        await admin.close()


@pytest.fixture(scope="module")
def case_app_factory(
    postgres_url: str, kafka_bootstrap: str, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Any]:
    """`async with case_app_factory() as app:` — a started app; `prefix=` shares topics between apps."""
    from contextlib import asynccontextmanager

    from icam_case.app import create_app
    from icam_case.config import CaseSettings, Topics

    issuer = LocalIssuer(tmp_path_factory.mktemp("issuer"))
    jwks = issuer.write_jwks()

    @asynccontextmanager
    async def start(
        prefix: str | None = None, database: str | None = None, group: str | None = None, **options: Any
    ) -> AsyncIterator[CaseApp]:
        tag = uuid.uuid4().hex[:8]
        topics = Topics.with_prefix(prefix or f"case-test-{tag}.")
        if prefix is None:
            await create_topics(
                kafka_bootstrap, [topics.case, topics.invitation, topics.referral, topics.notification]
            )
        name = database or f"case_test_{tag}"
        url = await postgres.ensure_database(postgres_url, name)
        settings = CaseSettings(
            service=ServiceSettings(service_name="case", database_url=url, kafka_bootstrap=kafka_bootstrap),
            topics=topics,
            consumer_group=group or f"case-test-{tag}",
            **options,
        )
        app = create_app(settings, AuthSettings(issuer="icam-local", audience="icam", jwks=str(jwks)))
        try:
            async with app.router.lifespan_context(app):
                transport = httpx.ASGITransport(app=app)
                async with httpx.AsyncClient(transport=transport, base_url="http://case") as client:
                    yield CaseApp(app, client, issuer, settings, kafka_bootstrap, name)
        finally:
            if database is None:
                await postgres.drop_database(postgres_url, name)

    return start


@pytest.fixture(scope="module")
async def case_app(case_app_factory: Callable[..., Any]) -> AsyncIterator[CaseApp]:
    """One started case app shared by the tests of a module."""
    async with case_app_factory() as app:
        yield app
