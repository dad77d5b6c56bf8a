"""Where the tests' Kafka and PostgreSQL come from, in order of preference:

1. endpoints from the environment (`KAFKA_BOOTSTRAP_SERVERS`, `DATABASE_URL`);
2. testcontainers, when a Docker engine answers;
3. the local infrastructure manager (`icam infra`), in its own state folder and ports so that a
   test run never touches the developer's running platform.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from icam_platform.infra import kafka, manager, postgres
from icam_platform.settings import InfraSettings, repo_root


@dataclass(frozen=True)
class Servers:
    kafka_bootstrap: str
    database_url: str
    source: str


def docker_available() -> bool:
    try:
        import docker

        docker.from_env(timeout=2).ping()
        return True
    except Exception:
        return False


def _test_settings() -> InfraSettings:
    home = os.environ.get("ICAM_TEST_HOME") or str(repo_root() / ".icam" / "test")
    settings = InfraSettings.from_env(home=Path(home))
    return InfraSettings(
        home=settings.home,
        kafka_port=int(os.environ.get("ICAM_TEST_KAFKA_PORT", 19092)),
        kafka_controller_port=int(os.environ.get("ICAM_TEST_KAFKA_CONTROLLER_PORT", 19093)),
        kafka_version=settings.kafka_version,
        kafka_heap=settings.kafka_heap,
        cache_dir=settings.cache_dir,
        external_kafka=None,
        external_database_url=None,
    )


@contextlib.contextmanager
def provide() -> Iterator[Servers]:
    """Yield real servers for a test session; stop only what this session started."""
    env_kafka = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    env_db = os.environ.get("DATABASE_URL")
    use_docker = not (env_kafka and env_db) and docker_available()
    kafka_source, bootstrap_cm = (
        ("env", contextlib.nullcontext(env_kafka))
        if env_kafka
        else ("testcontainers", _kafka_container())
        if use_docker
        else ("local", _local_kafka())
    )
    pg_source, database_cm = (
        ("env", contextlib.nullcontext(env_db))
        if env_db
        else ("testcontainers", _postgres_container())
        if use_docker
        else ("local", _local_postgres())
    )
    with bootstrap_cm as bootstrap, database_cm as database_url:
        assert bootstrap and database_url
        yield Servers(bootstrap, database_url, f"kafka:{kafka_source},postgres:{pg_source}")


@contextlib.contextmanager
def _local_kafka() -> Iterator[str]:
    settings = _test_settings()
    with _lease(settings, "kafka", lambda: kafka.status(settings).running, lambda: kafka.stop(settings)):
        with manager.exclusive(settings):
            bootstrap = kafka.start(settings)
        yield bootstrap


@contextlib.contextmanager
def _local_postgres() -> Iterator[str]:
    settings = _test_settings()
    with _lease(
        settings,
        "postgres",
        lambda: postgres.status(settings.pgdata).running,
        lambda: postgres.stop(settings.pgdata),
    ):
        with manager.exclusive(settings):
            uri = postgres.start(settings.pgdata)
        yield uri


@contextlib.contextmanager
def _lease(
    settings: InfraSettings, server: str, running: Callable[[], bool], stop: Callable[[], object]
) -> Iterator[None]:
    """Share the local test servers between concurrent test sessions (two terminals, helpers).

    Each session holds a lease file named by its pid; the last session out stops the servers that
    a test session started, so one session never pulls a server from under another.
    """
    leases = settings.run_dir / "leases" / server
    leases.mkdir(parents=True, exist_ok=True)
    started_marker = leases / "started-by-tests"
    with manager.exclusive(settings):
        if not running():
            started_marker.touch()
        (leases / str(os.getpid())).touch()
    try:
        yield
    finally:
        with manager.exclusive(settings):
            (leases / str(os.getpid())).unlink(missing_ok=True)
            if not _live_leases(leases) and started_marker.exists() and not _keep():
                stop()
                started_marker.unlink(missing_ok=True)


def _live_leases(leases: Path) -> list[Path]:
    alive = []
    for lease in leases.glob("[0-9]*"):
        if _pid_alive(int(lease.name)):
            alive.append(lease)
        else:
            lease.unlink(missing_ok=True)  # a session that died without cleaning up
    return alive


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _keep() -> bool:
    """ICAM_TEST_KEEP_SERVERS=1 leaves the test servers running for a faster next run."""
    return os.environ.get("ICAM_TEST_KEEP_SERVERS", "") not in ("", "0")


@contextlib.contextmanager
def _kafka_container() -> Iterator[str]:  # pragma: no cover - needs a Docker engine
    from testcontainers.community.kafka import KafkaContainer

    with KafkaContainer().with_kraft() as container:
        yield container.get_bootstrap_server()


@contextlib.contextmanager
def _postgres_container() -> Iterator[str]:  # pragma: no cover - needs a Docker engine
    from testcontainers.community.postgres import PostgresContainer

    with PostgresContainer("postgres:17", driver=None) as container:
        yield container.get_connection_url()
