"""`icam up --demo` against the platform as processes: one small batch, twice, with the fast settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from icam_platform import demo
from icam_platform.journeys import desks_open_today, fast_platform_settings
from icam_testing import platform_under_test as put

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def demo_platform(
    kafka_bootstrap: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[put.PlatformUnderTest, dict[str, str]]]:
    home = tmp_path_factory.mktemp("demo")
    env = fast_platform_settings(desks_open_today(home / "reference.json"))
    # beside the e2e suite's platform (offset 300), which may be up in the same session
    with put.running_platform(kafka_bootstrap, postgres_url, home, env, port_offset=350) as platform:
        yield platform, env


async def test_a_demo_batch_reaches_every_stage_and_a_second_batch_adds_to_it(
    demo_platform: tuple[put.PlatformUnderTest, dict[str, str]],
) -> None:
    platform, env = demo_platform
    first, by_status = await demo.seed(platform.gateway_url, platform.issuer.mint, env, households=16)
    assert [o.error for o in first if o.error] == []
    assert {"open", "suspended", "closed"} <= set(by_status)
    assert sum(o.referral is not None for o in first) >= 3
    assert {o.entry for o in first} >= {"invitation_letter", "helpline_email", "walk_in"}
    text = demo.summary(first, by_status, platform.gateway_url)
    assert "16 households" in text and "/docs" in text

    second, _ = await demo.seed(platform.gateway_url, platform.issuer.mint, env, households=8)
    assert [o.error for o in second if o.error] == []
    assert not {o.household.household_id for o in first} & {o.household.household_id for o in second}
