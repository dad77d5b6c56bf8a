"""What the platform looks like under load: consumer lag from the Kafka group offsets, the resident
memory of every process (services, Kafka, PostgreSQL) and the CPU time each spent (from /proc)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import psutil
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient


async def consumer_lag(admin: AIOKafkaAdminClient, probe: AIOKafkaConsumer, prefix: str) -> dict[str, int]:
    """Messages not yet committed per consumer group, over the topics of this platform (`prefix`).

    Read the way an operator would from outside the services: committed group offsets against the
    partitions' ends (the services' own `icam_consumer_lag` gauge needs a scrape of each process)."""
    lags: dict[str, int] = {}
    for group, _protocol in await admin.list_consumer_groups():
        offsets = await admin.list_consumer_group_offsets(group)
        ours = {tp: meta.offset for tp, meta in offsets.items() if tp.topic.startswith(prefix)}
        if not ours:
            continue
        ends = await probe.end_offsets(list(ours))
        lags[group] = sum(max(ends[tp] - max(committed, 0), 0) for tp, committed in ours.items())
    return lags


def pids(run_dir: Path) -> dict[str, int]:
    """`<home>/run/*.pid` of the platform, plus Kafka and PostgreSQL of the test servers if found."""
    found = {}
    for pid_file in sorted(run_dir.glob("*.pid")):
        with contextlib.suppress(ValueError, OSError):
            found[pid_file.stem] = int(pid_file.read_text().split()[0])
    return found


def memory_mb(pid: int, with_children: bool = False) -> tuple[float, float]:
    """(RSS, PSS) of `pid` and its children (PostgreSQL's backends, a keeper's uvicorn), in MiB.

    PSS shares each page among the processes that map it: the sum over PostgreSQL's backends is
    the memory the server takes. Their RSS sum counts the shared buffers once per backend that
    touched them, so it grows with the number of connections, not with what the server holds."""
    try:
        process = psutil.Process(pid)
        family = [process, *(process.children(recursive=True) if with_children else [])]
        rss = pss = 0
        for member in family:
            with contextlib.suppress(psutil.Error):
                full = member.memory_full_info()
                rss, pss = rss + full.rss, pss + getattr(full, "pss", full.rss)
        return rss / 2**20, pss / 2**20
    except psutil.Error:
        return 0.0, 0.0


def cpu_seconds(pid: int, with_children: bool = True) -> float:
    """User and system CPU time of `pid` and, unless told not to, its children (a keeper's
    uvicorn, PostgreSQL's backends)."""
    try:
        process = psutil.Process(pid)
        total = sum(process.cpu_times()[:2])
        for child in process.children(recursive=True) if with_children else ():
            with contextlib.suppress(psutil.Error):
                total += sum(child.cpu_times()[:2])
        return total
    except psutil.Error:
        return 0.0


@dataclass
class Observer:
    """Samples lag and memory once a second while the load runs."""

    bootstrap: str
    prefix: str
    processes: dict[str, int]
    interval: float = 1.0
    lag_max: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    lag_last: dict[str, int] = field(default_factory=dict)
    rss_max: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    rss_last: dict[str, float] = field(default_factory=dict)
    pss_max: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    pss_last: dict[str, float] = field(default_factory=dict)
    cpu_at_start: dict[str, float] = field(default_factory=dict)
    cpu_used: dict[str, float] = field(default_factory=dict)  # seconds, over the run
    # PostgreSQL backends that serve the bench itself (the read-model watcher), kept apart
    bench_backends: list[int] = field(default_factory=list)
    bench_cpu: float = 0.0  # seconds, over the run
    _bench_cpu_at_start: float = 0.0

    def _bench_backends_cpu(self) -> float:
        return sum(cpu_seconds(pid, with_children=False) for pid in self.bench_backends)

    def start_cpu(self) -> None:
        self.cpu_at_start = {name: cpu_seconds(pid) for name, pid in self.processes.items()}
        self._bench_cpu_at_start = self._bench_backends_cpu()

    def stop_cpu(self) -> None:
        self.cpu_used = {
            name: cpu_seconds(pid) - self.cpu_at_start.get(name, 0.0) for name, pid in self.processes.items()
        }
        self.bench_cpu = self._bench_backends_cpu() - self._bench_cpu_at_start
        if "postgres" in self.cpu_used:
            self.cpu_used["postgres"] -= self.bench_cpu

    async def sample_memory(self) -> None:
        for name, pid in self.processes.items():
            rss, pss = memory_mb(pid, with_children=True)  # a keeper's uvicorn; PostgreSQL's backends
            self.rss_last[name], self.pss_last[name] = rss, pss
            self.rss_max[name] = max(self.rss_max[name], rss)
            self.pss_max[name] = max(self.pss_max[name], pss)

    async def run(self, stop: asyncio.Event) -> None:
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await admin.start()
        await probe.start()
        try:
            while not stop.is_set():
                await self.sample(admin, probe)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.interval)
            await self.sample(admin, probe)
        finally:
            await probe.stop()
            await admin.close()

    async def sample(self, admin: AIOKafkaAdminClient, probe: AIOKafkaConsumer) -> None:
        await self.sample_memory()
        try:
            self.lag_last = await consumer_lag(admin, probe, self.prefix)
        except Exception as error:  # a group rebalancing answers with an error: try again next second
            self.lag_last = {"(unavailable)": 0}
            print(f"lag sample failed: {error!r}")
            return
        for group, lag in self.lag_last.items():
            self.lag_max[group] = max(self.lag_max[group], lag)

    async def wait_drained(self, timeout: float = 60.0) -> bool:
        """Until every group of this platform has consumed everything (the check needs it)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        probe = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None)
        await admin.start()
        await probe.start()
        try:
            deadline = asyncio.get_running_loop().time() + timeout
            while asyncio.get_running_loop().time() < deadline:
                lags = await consumer_lag(admin, probe, self.prefix)
                if lags and not any(lags.values()):
                    return True
                await asyncio.sleep(0.5)
            return False
        finally:
            await probe.stop()
            await admin.close()
