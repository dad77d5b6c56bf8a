"""The composition root: a service app starts against the real servers and reports ready."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from icam_kernel.service import ServiceRuntime, ServiceSettings, create_service_app
from icam_kernel.store import EventStore

pytestmark = pytest.mark.integration


def test_a_service_app_applies_migrations_starts_its_relay_and_is_ready(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = ServiceSettings("demo", database_url, kafka_bootstrap, pool_size=4)
    runtime = ServiceRuntime("demo", settings, migrations_dir=None, store=EventStore("demo.events"))

    async def ignore(conn: object, event: object) -> None:
        return None

    runtime.consume("demo.other.events", "demo-from-other", ignore)  # type: ignore[arg-type]
    with TestClient(create_service_app(runtime)) as client:
        ready = client.get("/health/ready")

    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": True, "broker": True, "relay": True}
