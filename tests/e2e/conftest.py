"""Session fixtures: the platform as real processes, and a gateway client, shared by the journeys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from icam_platform.journeys import Gateway, desks_open_today, fast_platform_settings
from icam_testing.browser import Visitor, chromium
from icam_testing.platform_under_test import PlatformUnderTest, running_platform
from icam_testing.traces import TraceReceiver


@pytest.fixture(scope="session")
def platform_under_test(
    kafka_bootstrap: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformUnderTest]:
    """Every service and the gateway as processes, with rules configured so that a whole trajectory
    (including a no-show) runs in seconds: no notice period, any day and hour, 3-second slots,
    1-second no-show grace, walk-in desks open today (ADR 0006). Every process traces, exporting to
    a receiver of the session's; only the requests a test sends with a sampled `traceparent` are
    traced (`test_traces.py`)."""
    home = tmp_path_factory.mktemp("platform")
    settings = fast_platform_settings(desks_open_today(home / "reference.json"))
    with (
        TraceReceiver() as traces,
        running_platform(
            kafka_bootstrap, postgres_url, home, settings, traces=traces, dev_mailbox=True
        ) as platform,
    ):
        yield platform


@pytest.fixture
async def gateway(platform_under_test: PlatformUnderTest) -> AsyncIterator[Gateway]:
    gw = Gateway(platform_under_test.gateway_url, platform_under_test.issuer.mint)
    yield gw
    await gw.aclose()


@pytest.fixture(scope="module")
def browser(platform_under_test: PlatformUnderTest) -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, for the web workspace's journeys.

    Per module, after the platform: Playwright's sync API keeps an event loop on this thread while
    it runs, and the asynchronous tests and fixtures around it need the thread's loop free."""
    with chromium() as launched:
        yield launched


@pytest.fixture
def visitors(browser: Any, platform_under_test: PlatformUnderTest) -> Iterator[Callable[..., Visitor]]:
    """`visitors("demo-coach-brussels-1")`: a person in a browser context of their own; every page
    they `seen()` must pass axe-core without a serious or critical violation."""
    opened: list[Visitor] = []

    def open_one(subject: str, **size: int) -> Visitor:
        visitor = Visitor(browser, platform_under_test.web_url, subject, **size)
        opened.append(visitor)
        return visitor

    yield open_one
    problems = [p for v in opened for p in v.problems]
    for visitor in opened:
        visitor.close()
    assert not problems, "accessibility (axe-core, WCAG 2.1 AA):\n  " + "\n  ".join(problems)
