"""Bring the local infrastructure up and down as one unit: PostgreSQL and Kafka, or external ones."""

from __future__ import annotations

import asyncio
import fcntl
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from icam_platform.infra import kafka, postgres
from icam_platform.infra.errors import InfraError
from icam_platform.settings import InfraSettings

# One database per service, created on demand; the names are part of the deploy contract.
SERVICE_DATABASES = ("invitation", "case", "referral", "notification", "privacy", "gateway", "web")


@dataclass(frozen=True)
class Endpoints:
    kafka_bootstrap: str
    database_url: str
    kafka_external: bool
    postgres_external: bool
    database_prefix: str = "icam_"

    def database_for(self, service: str) -> str:
        return postgres.with_database(self.database_url, f"{self.database_prefix}{service}")


@contextmanager
def exclusive(settings: InfraSettings) -> Iterator[None]:
    """Serialise `up`/`down` between processes; the kernel drops the lock if a holder dies."""
    settings.run_dir.mkdir(parents=True, exist_ok=True)
    with (settings.run_dir / "infra.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"waiting for another `icam infra` command on {settings.home} ...", flush=True)
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def up(settings: InfraSettings) -> Endpoints:
    """Start (or reuse) PostgreSQL and Kafka, wait for real readiness, create service databases."""
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    with exclusive(settings):
        if settings.external_database_url:
            database_url = settings.external_database_url
            if not asyncio.run(postgres.ping(database_url)):
                raise InfraError(f"DATABASE_URL does not answer `select 1`: {database_url}")
        else:
            database_url = postgres.start(settings.pgdata)
        if settings.external_kafka:
            if not asyncio.run(kafka.ping(settings.external_kafka, timeout=15)):
                raise InfraError(f"KAFKA_BOOTSTRAP_SERVERS does not answer: {settings.external_kafka}")
            bootstrap = settings.external_kafka
        else:
            bootstrap = kafka.start(settings)
    endpoints = Endpoints(
        bootstrap, database_url, bool(settings.external_kafka), bool(settings.external_database_url)
    )
    asyncio.run(_create_databases(endpoints))
    return endpoints


async def _create_databases(endpoints: Endpoints) -> None:
    for service in SERVICE_DATABASES:
        await postgres.ensure_database(endpoints.database_url, f"icam_{service}")


def down(settings: InfraSettings) -> list[str]:
    """Stop what this manager started (never external servers); returns what was stopped."""
    stopped = []
    with exclusive(settings):
        if kafka.stop(settings):
            stopped.append("kafka")
        if postgres.stop(settings.pgdata):
            stopped.append("postgres")
    return stopped


def describe(settings: InfraSettings) -> dict[str, str]:
    pg = postgres.status(settings.pgdata)
    kf = kafka.status(settings)
    return {
        "home": str(settings.home),
        "postgres": (
            f"external {settings.external_database_url}"
            if settings.external_database_url
            else f"running pid {pg.pid} {pg.uri}"
            if pg.running
            else "stopped"
        ),
        "kafka": (
            f"external {settings.external_kafka}"
            if settings.external_kafka
            else f"running pid {kf.pid} {kf.bootstrap}"
            if kf.running
            else "stopped"
        ),
        "logs": str(settings.logs_dir),
    }
