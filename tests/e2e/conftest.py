"""Session fixture: the platform as real processes, shared by the end-to-end journeys."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from icam_testing.platform_under_test import PlatformUnderTest, running_platform

# Timers shortened so that no-shows and reminders happen within a test's patience.
FAST_TIMERS = {
    "INVITATION_NO_SHOW_GRACE_SECONDS": "2",
    "INVITATION_TIMER_POLL_SECONDS": "0.2",
    "REFERRAL_TIMER_POLL_SECONDS": "0.2",
    "NOTIFICATION_RETRY_BASE_SECONDS": "0.2",
}


@pytest.fixture(scope="session")
def platform_under_test(
    kafka_bootstrap: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformUnderTest]:
    with running_platform(
        kafka_bootstrap, postgres_url, tmp_path_factory.mktemp("platform"), FAST_TIMERS
    ) as p:
        yield p
