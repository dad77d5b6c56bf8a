"""Fault benchmark: many households through A, B and C while a fault strikes every minute.

    uv run python bench/faults/bench_faults.py [--journeys 10000] [--lanes 8] [--fault-every 60]
    uv run python bench/faults/bench_faults.py --minutes 10 --json faults.json

The large version of the fault suite (`tests/reliability`): the same platform (every service, the
gateway, the web and the local provider as processes under their keepers) on a Kafka and a
PostgreSQL of its own, the same faults, the same invariants — but journeys in `--lanes` lanes
until `--journeys` finished (or `--minutes` passed), and the next fault of the rotation every
`--fault-every` seconds: kill -9 of one process (each in turn), kill -9 of Kafka, a PostgreSQL
crash, PostgreSQL read-only for 5 s, serialization failures and deadlocks inside the handlers'
transactions, an oversized event. (The poison event is left to the suite: it needs an operator's
discard.)

Reports, per fault: the journeys that started while it was the latest fault (their p50/p99/max
time), the highest consumer lag seen until the next fault, the clients' retries; then, after the
consumers caught up, every invariant of `icam_testing.invariants` over all journeys. A benchmark,
not a test: the exit code says only whether every journey ran and every invariant held.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from icam_platform import journeys as j
from icam_platform.settings import InfraSettings
from icam_testing import faults, households, invariants
from icam_testing.faults import PrivateServers
from icam_testing.households import Journey, ResilientGateway
from icam_testing.platform_under_test import PlatformUnderTest, running_platform

PORT_OFFSET = 900  # beside a developer's platform (0), e2e (300), the load bench (500), the suite (700)


@dataclass
class Window:
    """One fault and what happened until the next one."""

    fault: str
    started: float
    seconds: float = 0.0
    lag_max: int = 0
    retried_before: int = 0  # the clients' retries when it struck
    retried: int = 0
    journeys: list[Journey] = field(default_factory=list)

    def figures(self) -> dict[str, Any]:
        times = sorted(jr.seconds for jr in self.journeys if jr.seconds is not None) or [0.0]
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        failed = sum(1 for jr in self.journeys if jr.error)
        return {"fault": self.fault, "fault_seconds": round(self.seconds, 1), "journeys": len(self.journeys),
                "failed": failed, "p50": round(statistics.median(times), 1), "p99": round(p99, 1),
                "max": round(times[-1], 1), "lag_max": self.lag_max, "retried": self.retried}  # fmt: skip


Fault = Callable[[], Awaitable[str]]


def rotation(platform: PlatformUnderTest, private: PrivateServers) -> list[tuple[str, Fault]]:
    """The faults, in the order they come round; each returns a detail for the report."""
    settings = InfraSettings.from_env(platform.home)
    urls = platform.database_urls

    def kill(service: Any) -> Fault:
        async def fault() -> str:
            killed, started = faults.kill_service(service, settings), time.monotonic()
            await faults.until_restarted(service, settings, killed)
            return f"back after {time.monotonic() - started:.1f} s"

        return fault

    async def kafka() -> str:
        private.kill_kafka()
        await asyncio.sleep(2)
        await asyncio.to_thread(private.start_kafka)
        return ""

    async def postgres() -> str:
        await asyncio.to_thread(private.crash_postgres)
        await asyncio.sleep(2)
        await asyncio.to_thread(private.start_postgres)
        return ""

    async def read_only() -> str:
        async with faults.read_only(private.database_url):
            await asyncio.sleep(5)
        return ""

    async def refusals() -> str:
        tag = uuid.uuid4().hex[:6]
        for service, table, state in (("case", "received_events", "40001"), ("referral", "inbox", "40P01"),
                                      ("notification", "inbox", "40001")):  # fmt: skip
            await faults.refuse_inserts(urls[service], table, state, times=6, name=f"{service}_{tag}")
        return ""

    async def oversized() -> str:
        gw = ResilientGateway(platform.gateway_url, platform.issuer.mint)
        crowd = j.household(name="X" * 100)
        members = [
            {**crowd.members[0], "person_id": f"OE{i:06d}", "given_name": "Y" * 100} for i in range(20)
        ]
        try:
            await j.send_invitation(
                gw, j.coach("bench-oversized-coach"), j.Household(crowd.household_id, members), at=j.soon(600)
            )
        except j.GatewayError as refused:
            return f"refused {refused.status}"
        finally:
            await gw.aclose()
        return "NOT refused"

    kills = [(f"kill -9 {s.name}", kill(s)) for s in platform.services]
    others = [("kill -9 Kafka", kafka), ("PostgreSQL crash", postgres),
              ("PostgreSQL read-only 5 s", read_only), ("serialization / deadlock", refusals),
              ("oversized event", oversized)]  # fmt: skip
    # a kill between each of the others, so every process is killed within a few rounds
    mixed: list[tuple[str, Fault]] = []
    for i in range(max(len(kills), len(others))):
        mixed += [kills[i % len(kills)], others[i % len(others)]]
    return mixed


async def sample_lag(platform: PlatformUnderTest, windows: list[Window], stop: asyncio.Event) -> None:
    while not stop.is_set():
        with contextlib.suppress(Exception):  # the broker is down: nothing to read for now
            lags = await asyncio.wait_for(
                invariants.consumer_lag(platform.kafka_bootstrap, platform.topic_prefix), 5
            )
            if windows:
                windows[-1].lag_max = max(windows[-1].lag_max, sum(lags.values()))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1.0)


async def bench(
    platform: PlatformUnderTest, private: PrivateServers, args: argparse.Namespace
) -> dict[str, Any]:
    gw = ResilientGateway(platform.gateway_url, platform.issuer.mint)
    windows = [Window("none (start)", time.monotonic())]
    done: list[Journey] = []
    stop, begun = asyncio.Event(), time.monotonic()
    deadline = begun + args.minutes * 60 if args.minutes else None

    def enough() -> bool:
        return len(done) >= args.journeys or (deadline is not None and time.monotonic() > deadline)

    async def lane(index: int) -> None:
        n = 0
        while not enough():
            [journey] = households.journeys(1, f"bench-{index}", first=index + n * args.lanes)
            windows[-1].journeys.append(journey)
            done.append(await households.run(gw, journey))
            n += 1
            if len(done) % 100 == 0:
                print(f"  {len(done)} journeys, {time.monotonic() - begun:.0f} s", flush=True)

    async def strike() -> None:
        for name, fault in _forever(rotation(platform, private)):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), args.fault_every)
            if stop.is_set():
                return
            windows[-1].retried = gw.retried - windows[-1].retried_before
            window = Window(name, time.monotonic(), retried_before=gw.retried)
            windows.append(window)
            detail = await fault()
            window.seconds = time.monotonic() - window.started
            print(f"  fault: {name} ({window.seconds:.1f} s) {detail}", flush=True)

    sampler = asyncio.create_task(sample_lag(platform, windows, stop))
    striker = asyncio.create_task(strike())
    await asyncio.gather(*(lane(i) for i in range(args.lanes)))
    stop.set()
    await asyncio.gather(sampler, striker)
    windows[-1].retried = gw.retried - windows[-1].retried_before
    wall = time.monotonic() - begun

    found = await invariants.check_all(
        gw, done, bootstrap=platform.kafka_bootstrap, prefix=platform.topic_prefix,
        database_urls=platform.database_urls, mail=platform.mailbox.snapshot(),
    )  # fmt: skip
    await gw.aclose()
    return {"journeys": len(done), "failed": sum(1 for jr in done if jr.error), "wall_seconds": round(wall),
              "faults": len(windows) - 1, "windows": [w.figures() for w in windows],
              "invariants": "all held" if not found else str(found)}  # fmt: skip


def _forever(items: list[tuple[str, Fault]]) -> Any:
    while True:
        yield from items


def _print(report: dict[str, Any]) -> None:
    print(f"\n{report['journeys']} journeys ({report['failed']} failed) in {report['wall_seconds']} s, "
          f"{report['faults']} faults")  # fmt: skip
    columns = ("fault", "fault_seconds", "journeys", "failed", "p50", "p99", "max", "lag_max", "retried")
    print(" ".join(f"{c:>9}" if i else f"{c:<28}" for i, c in enumerate(columns)))
    for w in report["windows"]:
        print(" ".join(f"{w[c]!s:>9}" if i else f"{w[c]:<28}" for i, c in enumerate(columns)))
    print(f"invariants: {report['invariants']}")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--journeys", type=int, default=10_000)
    parser.add_argument(
        "--minutes", type=float, default=0.0, help="stop earlier, after this long (0: no limit)"
    )
    parser.add_argument("--lanes", type=int, default=8, help="journeys under way at once")
    parser.add_argument("--fault-every", type=float, default=60.0, help="seconds between two faults")
    parser.add_argument("--port-offset", type=int, default=PORT_OFFSET)
    parser.add_argument("--json", help="write the report here too")
    args = parser.parse_args()
    with (
        faults.private_servers() as private,
        tempfile.TemporaryDirectory(prefix="icam-bench-faults-") as folder,
    ):
        home = Path(folder)
        env = j.fast_platform_settings(j.desks_open_today(home / "reference.json")) | faults.FAST_RECOVERY
        print(
            f"private Kafka {private.kafka_bootstrap}; starting the platform (ports +{args.port_offset}) ..."
        )
        with running_platform(
            private.kafka_bootstrap, private.database_url, home, env, args.port_offset
        ) as platform:
            report = asyncio.run(bench(platform, private, args))
    _print(report)
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return 0 if report["invariants"] == "all held" and not report["failed"] else 1


if __name__ == "__main__":
    sys.exit(main())
