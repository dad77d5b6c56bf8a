"""The fault suite's platform: every service and the gateway as processes (each under its keeper),
on a Kafka and a PostgreSQL of its own — faults kill and restart those, and the test servers are
shared with other sessions. The figures of each fault (journey times, consumer lag, retries) are
printed at the end of the run."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from icam_platform.journeys import desks_open_today, fast_platform_settings
from icam_testing import faults
from icam_testing.faults import PrivateServers, private_servers
from icam_testing.households import ResilientGateway
from icam_testing.platform_under_test import PlatformUnderTest, running_platform


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Part of every run (about three minutes); `ICAM_FAULTS=0` leaves it out of a quick local run."""
    if os.environ.get("ICAM_FAULTS", "1") != "0":
        return
    skip = pytest.mark.skip(reason="ICAM_FAULTS=0: the fault suite is left out of this run")
    for item in items:
        if "tests/reliability" in str(item.path):
            item.add_marker(skip)


PORT_OFFSET = 700  # beside a developer's platform (0), the e2e suite (300) and the load bench (500)
FAULT_SETTINGS = faults.FAST_RECOVERY
FIGURES = pytest.StashKey[list[dict[str, Any]]]()


@pytest.fixture(scope="module")
def private() -> Iterator[PrivateServers]:
    with private_servers() as servers:
        yield servers


@pytest.fixture(scope="module")
def faulty_platform(
    private: PrivateServers, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformUnderTest]:
    home = tmp_path_factory.mktemp("faults")
    env = fast_platform_settings(desks_open_today(home / "reference.json")) | FAULT_SETTINGS
    # five minutes to come up: eight processes joining a fresh broker's groups on a busy machine
    with running_platform(
        private.kafka_bootstrap, private.database_url, home, env, PORT_OFFSET, ready_timeout=300
    ) as platform:
        yield platform


@pytest.fixture
def figures(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """Where each fault's figures go, for the summary at the end of the run."""
    return request.config.stash.setdefault(FIGURES, [])


@pytest.fixture
async def gw(faulty_platform: PlatformUnderTest) -> AsyncIterator[ResilientGateway]:
    client = ResilientGateway(faulty_platform.gateway_url, faulty_platform.issuer.mint)
    yield client
    await client.aclose()


COLUMNS = (("fault", 34), ("journeys", 8), ("p50 s", 7), ("max s", 7), ("fault s", 8), ("lag max", 8),
           ("retried", 8))  # fmt: skip


def _row(values: tuple[object, ...]) -> str:
    cells = [f"{v:.1f}" if isinstance(v, float) else str(v) for v in values]
    return " ".join(
        c.ljust(w) if i == 0 else c.rjust(w) for i, (c, (_, w)) in enumerate(zip(cells, COLUMNS, strict=True))
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    rows = terminalreporter.config.stash.get(FIGURES, [])
    if not rows:
        return
    terminalreporter.section("fault suite: what each fault did (journey times, consumer lag, client retries)")
    terminalreporter.write_line(_row(tuple(name for name, _ in COLUMNS)))
    for f in rows:
        lag = f["lag_max"] if f["lag_max"] is not None else "-"
        values = (f["fault"], f["journeys"], f["p50"], f["max"], f["fault_seconds"], lag, f["retried"])
        terminalreporter.write_line(_row(values))
        if f.get("detail"):
            terminalreporter.write_line(f"    {f['detail']}")
