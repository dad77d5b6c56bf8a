"""pytest plugin: real Kafka and PostgreSQL for integration tests, isolated per test.

Fixtures
    servers           session: endpoints and where they came from
    kafka_bootstrap   session: "host:port" of a real broker
    postgres_url      session: admin URI of a real PostgreSQL server
    database_url      test:    a fresh, empty database of its own (dropped afterwards)
    pg_pool           test:    an asyncpg pool on that database
    unique_name       test:    factory of names no other test uses (topics, consumer groups)
    kafka_topic       test:    factory creating a fresh topic with N partitions
    sealed_personal_data  session, automatic: personal data sealed with in-memory keys
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import asyncpg
import pytest

from icam_kernel import db, sealing
from icam_kernel.keyring import LocalKeyring
from icam_kernel.sealing import Vault
from icam_platform.infra import postgres
from icam_testing import servers as server_source

MARKERS = ("unit", "integration", "e2e")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Every test says what it needs: a test without a unit/integration/e2e marker is an error."""
    unmarked = [item.nodeid for item in items if not any(item.get_closest_marker(m) for m in MARKERS)]
    if unmarked:
        raise pytest.UsageError("tests without a unit/integration/e2e marker:\n  " + "\n  ".join(unmarked))


@pytest.fixture(scope="session", autouse=True)
def sealed_personal_data() -> Iterator[LocalKeyring]:
    """Every test process seals personal data as a deployed service does, with keys in memory
    (one keyring for the session: what one in-process service seals, another opens)."""
    keyring = LocalKeyring()
    sealing.install(Vault(keyring))
    yield keyring
    sealing.install(None)


@pytest.fixture(scope="session")
def servers() -> Iterator[server_source.Servers]:
    with server_source.provide() as provided:
        yield provided


@pytest.fixture(scope="session")
def kafka_bootstrap(servers: server_source.Servers) -> str:
    return servers.kafka_bootstrap


@pytest.fixture(scope="session")
def postgres_url(servers: server_source.Servers) -> str:
    return servers.database_url


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """`unique_name("topic")` -> "topic-test-appends-conflict-1a2b3c4d"; readable in broker logs."""
    test = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:40]

    def make(prefix: str) -> str:
        return f"{prefix}-{test}-{uuid.uuid4().hex[:8]}"

    return make


@pytest.fixture
async def database_url(postgres_url: str, unique_name: Callable[[str], str]) -> AsyncIterator[str]:
    name = unique_name("t").replace("-", "_")[:60]
    url = await postgres.ensure_database(postgres_url, name)
    yield url
    await postgres.drop_database(postgres_url, name)


@pytest.fixture
async def pg_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await db.create_pool(database_url, min_size=1, max_size=10)  # the kernel's, as services use
    yield pool
    await pool.close()


@pytest.fixture
def kafka_topic(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> Callable[..., Awaitable[str]]:
    """`await kafka_topic("events", partitions=3)` creates a fresh topic and returns its name."""

    async def create(prefix: str = "topic", partitions: int = 3) -> str:
        from aiokafka.admin import AIOKafkaAdminClient, NewTopic

        name = unique_name(prefix)
        admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(name, partitions, 1)])
        finally:
            await admin.close()
        return name

    return create
