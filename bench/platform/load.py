"""Platform load benchmark: many households through the ICAM trajectory at once, via the gateway.

    uv run python bench/platform/load.py [--journeys 200] [--rate 50] [--concurrency 32]

By default it starts its own platform (every service and the gateway as processes, fast e2e
settings) on the test servers (`icam_testing.servers.provide()`), with ports offset by
`--port-offset` so that it runs beside a developer's platform and the e2e suite. Against a platform
that already runs, pass `--gateway-url`, `--kafka`, `--prefix` and `--home` (for tokens and pids).

Reports commands/s accepted, propagation latency p50/p99 per step (from a command's 2xx until
every downstream read model shows it, watched in the services' own tables: `load_watch.py`),
consumer lag, memory per process, and a final consistency check of every journey against the
events on the topics. A benchmark, not a test: targets are printed beside the figures, the exit
code says only whether every journey ran and checked clean.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from load_check import Report, check
from load_driver import Driver, Journey, Metrics, RateLimiter, drive_all, journeys_to_run
from load_observe import Observer, pids
from load_watch import ReadModelWatcher, wait_quiet

from icam_auth.issuer import LocalIssuer
from icam_platform import journeys as j
from icam_platform.infra import postgres
from icam_testing import platform_under_test as put
from icam_testing import servers

TARGET_P50_MS, TARGET_P99_MS = 50, 250
TARGET_SERVICE_MB, TARGET_POSTGRES_MB = 150, 1536
SERVICES = ("invitation", "case", "referral", "notification")


@dataclass
class Target:
    """The platform under load: where its gateway, topics, tokens and processes are."""

    gateway_url: str
    kafka: str
    prefix: str
    issuer: LocalIssuer
    processes: dict[str, int]
    database_urls: dict[str, str]  # the services' own databases, where the watcher reads read models


@contextlib.contextmanager
def own_platform(port_offset: int) -> Iterator[Target]:
    """A fresh platform on the test servers, with the e2e suite's fast settings."""
    with servers.provide() as found, tempfile.TemporaryDirectory(prefix="icam-bench-") as folder:
        home = Path(folder)
        env = j.fast_platform_settings(j.desks_open_today(home / "reference.json"))
        print(f"servers: {found.source}; starting the platform (ports +{port_offset}) ...", flush=True)
        # beside `icam up` (offset 0) and the e2e suite (300)
        with put.running_platform(
            found.kafka_bootstrap, found.database_url, home, env, port_offset
        ) as platform:
            processes = pids(home / "run") | _infra_pids()
            yield Target(platform.gateway_url, found.kafka_bootstrap, platform.topic_prefix,
                         platform.issuer, processes, platform.database_urls)  # fmt: skip


def _infra_pids() -> dict[str, int]:
    """Kafka and PostgreSQL of the local test servers, when they run from `.icam/test`."""
    home = Path(servers._test_settings().home)
    found = {}
    with contextlib.suppress(ValueError, OSError, IndexError):
        found["kafka"] = int((home / "run" / "kafka.pid").read_text().split()[0])
    with contextlib.suppress(ValueError, OSError, IndexError):
        found["postgres"] = int((home / "postgres" / "postmaster.pid").read_text().split()[0])
    return found


async def bench(target: Target, args: argparse.Namespace) -> tuple[Metrics, Observer, Report, list[Journey]]:
    gw = j.Gateway(target.gateway_url, j.cached_tokens(target.issuer.mint))
    metrics = Metrics()
    watcher = ReadModelWatcher(target.database_urls, interval=args.watch_interval)
    await watcher.start()
    driver = Driver(gw, RateLimiter(args.rate), metrics, watcher)
    observer = Observer(target.kafka, target.prefix, target.processes)
    observer.bench_backends = await watcher.backend_pids()
    # a fresh platform's first journeys pay its warm-up (pools growing, first key requests, code
    # paths run once): they run first, apart, and stay out of the figures but not out of the check
    warm = journeys_to_run(args.warmup, seed=2)
    warming = Metrics()
    await drive_all(Driver(gw, RateLimiter(args.rate), warming, watcher), warm, args.concurrency)
    slowest = max((max(v) for v in warming.propagation.values() if v), default=0.0)
    print(f"warm-up: {len(warm)} journeys, slowest step {slowest * 1000:.0f} ms (not in the figures)")
    stop = asyncio.Event()
    sampling = asyncio.create_task(observer.run(stop))
    journeys = journeys_to_run(args.journeys, first=len(warm))
    metrics.started = time.perf_counter()
    observer.start_cpu()
    try:
        await drive_all(driver, journeys, args.concurrency)
        stop.set()
        await sampling
        drained = await observer.wait_drained(timeout=600)
        quiet = await wait_quiet(target.database_urls)
        observer.stop_cpu()  # the work the load caused, settled included; not the check below
        print(
            f"load done in {metrics.finished - metrics.started:.1f}s; consumers drained: {drained}; "
            f"outboxes and notifications settled: {quiet}",
            flush=True,
        )
        report = await check(gw, target.kafka, target.prefix, warm + journeys)
    finally:
        stop.set()
        await watcher.stop()
        await gw.aclose()
    return metrics, observer, report, journeys


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def render(
    args: argparse.Namespace, metrics: Metrics, obs: Observer, report: Report, js: list[Journey]
) -> dict:
    """Print the figures and return them (for --json)."""
    elapsed = metrics.finished - metrics.started
    ok = metrics.commands["ok"]
    failed = [jr for jr in js if jr.error]
    print(f"\njourneys {len(js)} ({', '.join(f'{k} {sum(jr.kind == k for jr in js)}' for k in 'ABC')}), "
          f"failed {len(failed)}; rate target {args.rate}/s, concurrency {args.concurrency}")  # fmt: skip
    print(f"commands accepted {ok} in {elapsed:.1f}s = {ok / elapsed:.1f}/s; refused: "
          f"{dict((k, v) for k, v in metrics.commands.items() if k != 'ok') or 'none'}")  # fmt: skip
    print(
        f"propagation (read models watched every {args.watch_interval * 1000:.0f} ms; "
        f"target p50 < {TARGET_P50_MS} ms, p99 < {TARGET_P99_MS} ms):"
    )
    result: dict = {"commands_per_s": ok / elapsed, "failed": len(failed), "propagation_ms": {}}
    for name, values in metrics.propagation.items():
        p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
        result["propagation_ms"][name] = {"n": len(values), "p50": p50, "p99": p99, "max": max(values) * 1000}
        print(
            f"  {name:<48} n={len(values):<5} p50 {p50:7.1f}  p99 {p99:7.1f}  max {max(values) * 1000:7.1f}"
        )
    lags = ", ".join(f"{g} {obs.lag_max[g]}/{obs.lag_last.get(g, 0)}" for g in sorted(obs.lag_max))
    print(f"consumer lag (messages; max during the run / at the end): {lags}")
    print(f"memory MiB, PSS max / end (RSS max) — targets: services < {TARGET_SERVICE_MB}, "
          f"PostgreSQL < {TARGET_POSTGRES_MB}: "
          + ", ".join(f"{n} {obs.pss_max[n]:.0f}/{obs.pss_last[n]:.0f} ({obs.rss_max[n]:.0f})"
                      for n in obs.rss_max))  # fmt: skip
    per_command = {n: 1000 * seconds / max(ok, 1) for n, seconds in obs.cpu_used.items()}
    total = sum(per_command.values())
    print(
        f"CPU ms per accepted command, by process (all: {total:.1f} ms = {1000 / max(total, 1e-9):.0f} "
        "commands/s per core at most): "
        + ", ".join(f"{n} {ms:.2f}" for n, ms in sorted(per_command.items(), key=lambda x: -x[1]))
        + f"; not counted: the bench's own read-model queries, {1000 * obs.bench_cpu / max(ok, 1):.2f} ms "
        "of PostgreSQL's"
    )
    print(f"consistency: {report.checked} journeys checked, {report.problems} inconsistencies, "
          f"{report.redelivered_copies} redelivered copies on the topics (same event id)")  # fmt: skip
    for what, which in report.inconsistent.items():
        print(f"  {what}: {len(which)} e.g. {which[:5]}")
    for jr in failed[:5]:
        print(f"  journey {jr.index} ({jr.kind}) failed: {jr.error}")
    result.update(cpu_ms_per_command=per_command, lag_max=dict(obs.lag_max), rss_max_mb=dict(obs.rss_max),
                  bench_watcher_postgres_cpu_ms=1000 * obs.bench_cpu / max(ok, 1),
                  pss_max_mb=dict(obs.pss_max),
                  checked=report.checked,
                  inconsistencies=report.problems, redelivered=report.redelivered_copies)  # fmt: skip
    return result


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--journeys", type=int, default=200, help="households to run through (default 200)")
    p.add_argument("--rate", type=float, default=50.0, help="target commands per second (default 50)")
    p.add_argument("--concurrency", type=int, default=32, help="journeys in flight at most (default 32)")
    p.add_argument("--warmup", type=int, default=10, help="journeys run first, not measured (default 10)")
    p.add_argument("--watch-interval", type=float, default=0.005,
                   help="how often the read-model tables are queried, seconds (0.005)")  # fmt: skip
    p.add_argument("--port-offset", type=int, default=500, help="ports of the platform it starts (+500)")
    p.add_argument("--gateway-url", help="use this running platform instead of starting one")
    p.add_argument("--kafka", default="127.0.0.1:9092", help="its Kafka (with --gateway-url)")
    p.add_argument("--prefix", default="", help="its topic prefix (with --gateway-url)")
    p.add_argument("--home", default=".icam", help="its state folder: token issuer, pid files")
    p.add_argument("--database-url", help="its PostgreSQL server (with --gateway-url; default: .icam's)")
    p.add_argument("--database-prefix", default="icam_", help="its databases' prefix (icam_<service>)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    return p.parse_args()


def main() -> int:
    args = parse()
    if args.gateway_url:
        home = Path(args.home)
        server = args.database_url or postgres.status(home / "postgres").uri or ""
        urls = {n: postgres.with_database(server, f"{args.database_prefix}{n}") for n in SERVICES}
        target = Target(args.gateway_url, args.kafka, args.prefix, LocalIssuer(home / "auth"),
                        pids(home / "run"), urls)  # fmt: skip
        context: contextlib.AbstractContextManager[Target] = contextlib.nullcontext(target)
    else:
        context = own_platform(args.port_offset)
    started = time.monotonic()
    with context as target:
        metrics, observer, report, journeys = asyncio.run(bench(target, args))
    figures = render(args, metrics, observer, report, journeys)
    print(f"total {time.monotonic() - started:.0f}s")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0 if not figures["failed"] and not report.problems else 1


if __name__ == "__main__":
    sys.exit(main())
