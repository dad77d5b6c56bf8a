"""`icam infra up` brings real servers up once, keeps data across restarts, and stops cleanly."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from icam_platform.infra import kafka, manager, postgres
from icam_platform.infra.process import free_port
from icam_platform.settings import InfraSettings

pytestmark = pytest.mark.integration


@pytest.fixture
def private_infra(monkeypatch: pytest.MonkeyPatch, scratch_home: Path) -> Iterator[InfraSettings]:
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    base = InfraSettings.from_env(scratch_home / "icam")
    settings = InfraSettings(
        home=base.home,
        kafka_port=free_port(),
        kafka_controller_port=free_port(),
        kafka_version=base.kafka_version,
        kafka_heap="256m",
        cache_dir=base.cache_dir,
        external_kafka=None,
        external_database_url=None,
    )
    yield settings
    manager.down(settings)


async def _write_and_read(url: str, value: str | None) -> str:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("create table if not exists kept (v text)")
        if value is not None:
            await conn.execute("insert into kept values ($1)", value)
        return str(await conn.fetchval("select v from kept limit 1"))
    finally:
        await conn.close()


def test_up_twice_is_a_no_op_and_data_survives_down_and_up(private_infra: InfraSettings) -> None:
    first = manager.up(private_infra)
    kafka_pid = kafka.status(private_infra).pid
    postgres_pid = postgres.status(private_infra.pgdata).pid

    again = manager.up(private_infra)
    assert again == first
    assert kafka.status(private_infra).pid == kafka_pid
    assert postgres.status(private_infra.pgdata).pid == postgres_pid

    url = first.database_for("case")
    assert asyncio.run(_write_and_read(url, "household hh-7")) == "household hh-7"
    assert sorted(manager.down(private_infra)) == ["kafka", "postgres"]
    assert not kafka.status(private_infra).running

    restarted = manager.up(private_infra)
    assert asyncio.run(_write_and_read(restarted.database_for("case"), None)) == "household hh-7"
    assert asyncio.run(kafka.ping(restarted.kafka_bootstrap))
