"""Idle memory of a service: start it as uvicorn would run it, wait until ready, read its RSS.

    uv run python bench/kernel/idle_rss.py [--service referral] [--settle 5] [--target-mb 150]

Uses the test servers (icam_testing.servers.provide): real PostgreSQL and Kafka, a fresh database
and a unique topic prefix per run. Exits 1 when the RSS is at or above the target.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil

from icam_platform import platform, topics
from icam_platform.infra import postgres
from icam_platform.infra.process import free_port
from icam_testing import servers

APPS = {s.name: s.app for s in platform.SERVICES if s.name != "gateway"}


def wait_ready(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> float:
    """Seconds until `/health/ready` answers 200; raises if the process dies or time runs out."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if process.poll() is not None:
            raise RuntimeError(f"the service exited with {process.returncode}")
        try:
            if httpx.get(f"{url}/health/ready", timeout=1).status_code == 200:
                return time.perf_counter() - started
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout} s")


def measure(provided: servers.Servers, service: str, settle: float, log: Path) -> dict[str, float]:
    run = uuid.uuid4().hex[:8]
    database = f"bench_rss_{service}_{run}"
    url = asyncio.run(postgres.ensure_database(provided.database_url, database))
    prefix = f"rss{run}."
    asyncio.run(topics.ensure_topics(provided.kafka_bootstrap, partitions=3, prefix=prefix))
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "KAFKA_BOOTSTRAP_SERVERS": provided.kafka_bootstrap,
        "ICAM_TOPIC_PREFIX": prefix,
        "ICAM_SERVICE_NAME": service,
        "LOG_FORMAT": "json",
    }
    command = [sys.executable, "-m", "uvicorn", "--factory", APPS[service], "--port", str(port)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        ready = wait_ready(f"http://127.0.0.1:{port}", process)
        time.sleep(settle)  # let the relay, timer worker and consumers reach their idle loops
        memory = psutil.Process(process.pid).memory_full_info()
        return {"ready_s": ready, "rss_mb": memory.rss / 2**20, "uss_mb": memory.uss / 2**20}
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        asyncio.run(postgres.drop_database(provided.database_url, database))


def main() -> int:
    cli = argparse.ArgumentParser()
    cli.add_argument("--service", choices=sorted(APPS), default="referral")
    cli.add_argument("--settle", type=float, default=5.0, help="seconds idle before reading the RSS")
    cli.add_argument("--target-mb", type=float, default=150.0)
    args = cli.parse_args()
    log = Path(tempfile.gettempdir()) / f"idle_rss_{args.service}.log"
    with servers.provide() as provided:
        result = measure(provided, args.service, args.settle, log)
    verdict = "ok" if result["rss_mb"] < args.target_mb else "ABOVE TARGET"
    print(
        f"{args.service}: ready in {result['ready_s']:.1f} s, idle RSS {result['rss_mb']:.1f} MB "
        f"(USS {result['uss_mb']:.1f} MB), target < {args.target_mb:.0f} MB: {verdict}  [log: {log}]"
    )
    return 0 if verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
