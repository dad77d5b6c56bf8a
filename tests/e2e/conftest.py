"""Session fixtures: the platform as real processes, and a gateway client, shared by the journeys."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from icam_platform.journeys import Gateway, desks_open_today, fast_platform_settings
from icam_testing.platform_under_test import PlatformUnderTest, running_platform


@pytest.fixture(scope="session")
def platform_under_test(
    kafka_bootstrap: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformUnderTest]:
    """Every service and the gateway as processes, with rules configured so that a whole trajectory
    (including a no-show) runs in seconds: no notice period, any day and hour, 3-second slots,
    1-second no-show grace, walk-in desks open today (ADR 0006)."""
    home = tmp_path_factory.mktemp("platform")
    settings = fast_platform_settings(desks_open_today(home / "reference.json"))
    with running_platform(kafka_bootstrap, postgres_url, home, settings) as platform:
        yield platform


@pytest.fixture
async def gateway(platform_under_test: PlatformUnderTest) -> AsyncIterator[Gateway]:
    gw = Gateway(platform_under_test.gateway_url, platform_under_test.issuer.mint)
    yield gw
    await gw.aclose()
