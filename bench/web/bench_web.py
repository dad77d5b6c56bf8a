"""Web workspace benchmark: page server times with many journeys seeded.

    uv run python bench/web/bench_web.py [--journeys 10000] [--samples 200] [--json out.json]

Starts its own platform on the test servers (every service, the gateway, the local OpenID provider
and the web as processes, the e2e suite's fast settings), seeds `--journeys` households through the
gateway (each invited by one of the 15 demo coaches across the five regions; a tenth of them also
interviewed, and half of those given an outcome), signs a coach, a team lead and an ops viewer in
through the provider like a browser would, then times the pages: the caseload (first page, and
filtered), the case file (opened from the caseload's link, which names the household, and opened
directly by its address), the agenda, the region overview, the dashboard.

Reports p50 / p95 / max of the web's own `Server-Timing` (server time, the gateway and services
included) and of the wall time seen by the client, against the targets: caseload and case file
p95 < 300 ms, dashboard < 1 s. A benchmark, not a test: it prints, it does not fail.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from html import unescape
from pathlib import Path
from typing import Any

import httpx

from icam_auth import staff
from icam_platform import journeys as j
from icam_testing import servers
from icam_testing.platform_under_test import PlatformUnderTest, running_platform

TARGETS_MS = {
    "caseload": 300,
    "caseload filtered": 300,
    "case file": 300,
    "case file direct": 300,
    "dashboard": 1000,
}
COACHES = [m.principal for m in staff.directory() if m.principal.role.value == "coach"]


async def seed(platform: PlatformUnderTest, journeys: int, concurrency: int) -> list[tuple[Any, str]]:
    """Invite `journeys` households; interview a tenth, decide half of those. Returns every
    (coach, case id), the interviewed ones first."""
    gw = j.Gateway(platform.gateway_url, j.cached_tokens(platform.issuer.mint))
    gate = asyncio.Semaphore(concurrency)
    slots = {c.subject: iter(range(10_000_000)) for c in COACHES}
    started = time.monotonic()

    async def invite(n: int) -> None:
        coach = COACHES[n % len(COACHES)]
        home = j.household(postal_code=POSTAL[coach.region or "brussels"], name=f"Bench{n}")
        async with gate:
            for _ in range(20):  # a slot already taken (409) moves to the next one
                at = j.soon(3600 + 4 * next(slots[coach.subject]))
                try:
                    await j.send_invitation(gw, coach, home, at=at)
                    return
                except j.GatewayError as error:
                    if error.status != 409:
                        raise

    await _progress("invitations", [invite(n) for n in range(journeys)], started)
    cases = await _cases(gw)
    chosen = random.Random(7).sample(cases, min(len(cases), max(1, journeys // 10)))

    async def work(index: int, coach: Any, link: str) -> None:
        case_id = link.split("?")[0]
        async with gate:
            case = await gw.get(coach, f"/api/cases/{case_id}")
            await gw.post(
                coach, f"/api/cases/{case_id}/interviews", _interview(case["members"][0]["person_id"])
            )
            if index % 2 == 0:
                await j.decide_outcome(gw, coach, case_id, "return_refused", consequences_explained=True)

    await _progress("interviews", [work(i, c, cid) for i, (c, cid) in enumerate(chosen)], time.monotonic())
    await gw.aclose()
    return chosen + [c for c in cases if c not in chosen]


POSTAL = {
    "brussels": "1000",
    "antwerp_limburg": "2000",
    "east_west_flanders": "9000",
    "liege": "4000",
    "namur_luxembourg": "5000",
}


def _interview(person_id: str) -> dict[str, Any]:
    return {
        "occurred_at": j.just_now(),
        "kind": "intake",
        "language": "fr",
        "attendees": [person_id],
        "interpreter_present": False,
        "notes": "bench",
    }


async def _progress(what: str, work: list[Awaitable[None]], started: float) -> None:
    results = await asyncio.gather(*work, return_exceptions=True)
    failed = [r for r in results if isinstance(r, Exception)]
    print(
        f"seeded {len(results) - len(failed)} {what} in {time.monotonic() - started:.0f}s"
        + (f" ({len(failed)} failed, e.g. {str(failed[0])[:200]})" if failed else ""),
        flush=True,
    )


async def _cases(gw: j.Gateway) -> list[tuple[Any, str]]:
    """Every coach's cases, once the case service opened them all (paged through the caseload)."""
    found: list[tuple[Any, str]] = []
    for coach in COACHES:
        offset = 0
        while True:
            page = await gw.get(coach, "/api/caseload", coach=coach.subject, limit=200, offset=offset)
            found += [(coach, f"{item['case_id']}?h={item['household_id']}") for item in page["items"]]
            offset += len(page["items"])
            if not page["items"] or offset >= page["total"]:
                break
    return found


def sign_in(web: str, subject: str) -> httpx.Client:
    """The browser's dance: web → provider's page → choose the person → callback → session cookie."""
    client = httpx.Client(timeout=30)
    answer = client.get(web + "/sign-in", follow_redirects=False)
    page = client.get(answer.headers["location"])
    fields = {
        k: unescape(v) for k, v in re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', page.text)
    }
    chosen = client.post(
        str(page.url).split("?")[0], data={**fields, "subject": subject}, follow_redirects=False
    )
    client.get(chosen.headers["location"], follow_redirects=False)
    return client


def timed(client: httpx.Client, url: str) -> tuple[float, float]:
    started = time.perf_counter()
    answer = client.get(url)
    wall = (time.perf_counter() - started) * 1000
    assert answer.status_code == 200, f"{url}: {answer.status_code}"
    server = float(answer.headers["server-timing"].split("dur=")[1])
    return server, wall


def measure(name: str, visit: Callable[[int], tuple[float, float]], samples: int) -> dict[str, float]:
    visit(0)  # warm: connections, caches
    times = [visit(i) for i in range(samples)]
    server, wall = sorted(t[0] for t in times), sorted(t[1] for t in times)

    def p(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))]

    row = {
        "samples": samples,
        "server_p50_ms": statistics.median(server),
        "server_p95_ms": p(server, 0.95),
        "server_max_ms": server[-1],
        "wall_p50_ms": statistics.median(wall),
        "wall_p95_ms": p(wall, 0.95),
    }
    target = TARGETS_MS.get(name)
    verdict = "" if target is None else ("  ok" if row["server_p95_ms"] < target else f"  OVER {target} ms")
    print(
        f"{name:<18} server p50 {row['server_p50_ms']:6.0f}  p95 {row['server_p95_ms']:6.0f}  max "
        f"{row['server_max_ms']:6.0f} ms | wall p50 {row['wall_p50_ms']:6.0f}  "
        f"p95 {row['wall_p95_ms']:6.0f} ms{verdict}",
        flush=True,
    )
    return row


def run(platform: PlatformUnderTest, args: argparse.Namespace) -> dict[str, Any]:
    sampled = asyncio.run(seed(platform, args.journeys, args.concurrency))
    web = platform.web_url
    report: dict[str, Any] = {"journeys": args.journeys}
    coach = COACHES[0]
    mine = [cid for c, cid in sampled if c == coach]
    as_coach, as_lead, as_ops = (
        sign_in(web, coach.subject),
        sign_in(web, "demo-lead-brussels"),
        sign_in(web, "demo-ops"),
    )
    n = args.samples
    report["caseload"] = measure(
        "caseload", lambda i: timed(as_coach, f"{web}/cases?offset={(i % 5) * 50}"), n
    )
    report["caseload filtered"] = measure(
        "caseload filtered", lambda i: timed(as_coach, f"{web}/cases?scope=region&status=open&due=week"), n
    )
    report["case file direct"] = measure(
        "case file direct", lambda i: timed(as_coach, f"{web}/cases/{mine[i % len(mine)].split('?')[0]}"), n
    )
    report["case file"] = measure(
        "case file", lambda i: timed(as_coach, f"{web}/cases/{mine[i % len(mine)]}"), n
    )
    report["agenda"] = measure("agenda", lambda i: timed(as_coach, f"{web}/agenda"), max(20, n // 10))
    report["region overview"] = measure(
        "region overview", lambda i: timed(as_lead, f"{web}/team"), max(20, n // 10)
    )
    report["dashboard"] = measure("dashboard", lambda i: timed(as_ops, f"{web}/ops"), max(20, n // 10))
    return report


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--journeys", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=24)
    parser.add_argument("--port-offset", type=int, default=700)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with servers.provide() as provided, tempfile.TemporaryDirectory(prefix="icam-bench-web-") as home:
        settings = j.fast_platform_settings(j.desks_open_today(Path(home) / "reference.json"))
        with running_platform(
            provided.kafka_bootstrap,
            provided.database_url,
            Path(home),
            settings,
            port_offset=args.port_offset,
        ) as platform:
            report = run(platform, args)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
