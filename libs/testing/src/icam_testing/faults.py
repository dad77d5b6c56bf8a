"""Faults for the fault suite and the fault benchmark, injected for real: SIGKILL of a process, a
broker killed and started again, a database restarted or made read-only, PostgreSQL errors raised
by the database itself inside a handler's transaction.

Faults that kill or restart Kafka or PostgreSQL need servers of their own (`PrivateServers`): the
test servers are shared with other sessions and are never touched.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from icam_platform import platform
from icam_platform.infra import kafka, manager, postgres, process
from icam_platform.settings import InfraSettings

# what the faults need to be quick to see and quick to recover from (docs/configuration.md); the
# fault suite and the fault benchmark run their platform with these
FAST_RECOVERY = {
    "ICAM_MAX_EVENT_BYTES": "6144",  # an invitation of twenty long-named members is over it
    "ICAM_COMMAND_RETRY_SECONDS": "3",
    "ICAM_CONSUMER_SESSION_TIMEOUT_MS": "3000",  # a killed consumer's partitions move on in 3 s
    "ICAM_WORKER_BACKOFF_SECONDS": "2",
    "ICAM_KEEPER_FIRST_DELAY": "0.5",
    "ICAM_KEEPER_LONGEST_DELAY": "2",
    "NOTIFICATION_LEASE_SECONDS": "3",
    "NOTIFICATION_RETRY_FIRST_SECONDS": "1",
    "NOTIFICATION_RETRY_MAX_SECONDS": "5",
}


@dataclass(frozen=True)
class PrivateServers:
    """A Kafka and a PostgreSQL of this run only, under a folder of its own (free ports)."""

    settings: InfraSettings
    kafka_bootstrap: str
    database_url: str

    def kill_kafka(self) -> None:
        """SIGKILL the broker's JVM: no shutdown, no flush (its log is recovered at the next start)."""
        pid = kafka.status(self.settings).pid
        assert pid is not None, "the private Kafka is not running"
        os.kill(pid, signal.SIGKILL)
        process.wait_until(lambda: not process.is_alive(pid), timeout=30)
        ports = (self.settings.kafka_port, self.settings.kafka_controller_port)
        process.wait_until(lambda: all(process.port_is_free(p) for p in ports), timeout=60)

    def start_kafka(self) -> None:
        with manager.exclusive(self.settings):
            kafka.start(self.settings)

    def crash_postgres(self) -> None:
        """Stop PostgreSQL as a crash would (`immediate`: no checkpoint, recovery at the start)."""
        postgres.stop(self.settings.pgdata, mode="immediate")

    def start_postgres(self) -> None:
        postgres.start(self.settings.pgdata)


@contextlib.contextmanager
def private_servers(
    kafka_heap: str = "384m", kafka_java_opts: str = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
) -> Iterator[PrivateServers]:
    """Start a private Kafka and PostgreSQL, yield them, stop them and remove their folder.

    The folder is under /tmp with mode 0755: PostgreSQL runs as its own user, which must be able to
    traverse every parent (pytest's own temporary folders are 0700). The broker's JVM compiles less
    and collects in one thread (`kafka_java_opts`): it starts again in a fault test in about half
    the time, and a test broker needs no peak throughput."""
    os.environ.setdefault("ICAM_KAFKA_JAVA_OPTS", kafka_java_opts)
    home = Path(tempfile.mkdtemp(prefix="icam-faults-", dir="/tmp"))
    home.chmod(0o755)
    base = InfraSettings.from_env(home)
    settings = InfraSettings(
        home=base.home,
        kafka_port=process.free_server_port(),
        kafka_controller_port=process.free_server_port(),
        kafka_version=base.kafka_version,
        kafka_heap=kafka_heap,
        cache_dir=base.cache_dir,
        external_kafka=None,
        external_database_url=None,
    )
    try:
        with manager.exclusive(settings):
            database_url = postgres.start(settings.pgdata)
            bootstrap = kafka.start(settings)
        yield PrivateServers(settings, bootstrap, database_url)
    finally:
        manager.down(settings)
        shutil.rmtree(home, ignore_errors=True)


def kill_service(service: platform.Service, settings: InfraSettings) -> int:
    """SIGKILL a platform process (not its keeper, which starts it again); returns the pid killed."""
    pid = platform.service_pid(service, settings)
    assert pid is not None, f"{service.name} is not running"
    os.kill(pid, signal.SIGKILL)
    return pid


async def until_restarted(
    service: platform.Service, settings: InfraSettings, killed: int, timeout: float = 90
) -> None:
    """Until the keeper started a new process of `service` and it answers /health/ready."""
    async with asyncio.timeout(timeout):
        while True:
            pid = platform.service_pid(service, settings)
            if pid not in (None, killed) and await asyncio.to_thread(platform.healthy, service):
                return
            await asyncio.sleep(0.2)


@contextlib.asynccontextmanager
async def read_only(admin_url: str) -> AsyncIterator[None]:
    """Every database of the server refuses writes (`default_transaction_read_only`, as a standby or a
    failover in progress would) until the block ends; existing sessions see it at the reload."""
    conn = await asyncpg.connect(admin_url)
    try:
        await conn.execute("alter system set default_transaction_read_only = on")
        await conn.execute("select pg_reload_conf()")
        yield
    finally:
        await conn.execute("set default_transaction_read_only = off")
        await conn.execute("alter system reset default_transaction_read_only")
        await conn.execute("select pg_reload_conf()")
        await conn.close()


_REFUSE = """
create sequence if not exists fault_{name};
create or replace function fault_{name}() returns trigger language plpgsql as $$
begin
    if nextval('fault_{name}') <= {times} then
        raise exception 'injected by the fault suite' using errcode = '{sqlstate}';
    end if;
    return new;
end $$;
drop trigger if exists fault_{name} on {table};
create trigger fault_{name} before insert on {table} for each row execute function fault_{name}();
"""


async def refuse_inserts(database_url: str, table: str, sqlstate: str, times: int, name: str) -> None:
    """The next `times` inserts into `table` fail with `sqlstate`, raised by PostgreSQL inside the
    inserting transaction (a serialization failure, a deadlock) — not by the code under test."""
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(_REFUSE.format(name=name, table=table, sqlstate=sqlstate, times=times))
    finally:
        await conn.close()


async def refusals_left(database_url: str, name: str, times: int) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        used = await conn.fetchval(f"select last_value from fault_{name}")
        called = await conn.fetchval(f"select is_called from fault_{name}")
        return max(times - (int(used) if called else 0), 0)
    finally:
        await conn.close()
