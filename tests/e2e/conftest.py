"""Session fixtures: the platform as real processes, and a gateway client, shared by the journeys."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from icam_contracts.reference import DEFAULT_REFERENCE_DATA
from icam_platform.journeys import Gateway
from icam_testing.platform_under_test import PlatformUnderTest, running_platform

BRUSSELS = ZoneInfo("Europe/Brussels")


def _reference_with_desks_open_today(folder: Path) -> Path:
    """Walk-in desks open on Wednesdays 09:00-12:00; the journeys run any day, so open them today."""
    data = DEFAULT_REFERENCE_DATA.model_dump(mode="json")
    today = datetime.now(BRUSSELS).weekday()
    for desk in data["desks"]:
        desk.update(weekday=today, opens=time(0).isoformat(), closes=time(23, 59, 59).isoformat())
    path = folder / "reference.json"
    path.write_text(json.dumps({"desks": data["desks"]}))
    return path


def _fast_settings(folder: Path) -> dict[str, str]:
    """Interviews any day and hour, no notice period, short slots and timers: a whole trajectory
    (including a no-show) fits in seconds. Everything else runs with production defaults."""
    return {
        "ICAM_REFERENCE_DATA": str(_reference_with_desks_open_today(folder)),
        "INVITATION_NOTICE_POSTAL_DAYS": "0",
        "INVITATION_NOTICE_ELECTRONIC_DAYS": "0",
        "INVITATION_WORKING_DAYS": "0,1,2,3,4,5,6",
        "INVITATION_WORKING_HOURS": "00:00-23:59:59",
        "INVITATION_SLOT_MINUTES": "0.05",
        "INVITATION_NO_SHOW_GRACE_SECONDS": "1",
        "INVITATION_REMINDER_DAYS_BEFORE": "0",
    }


@pytest.fixture(scope="session")
def platform_under_test(
    kafka_bootstrap: str, postgres_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PlatformUnderTest]:
    home = tmp_path_factory.mktemp("platform")
    with running_platform(kafka_bootstrap, postgres_url, home, _fast_settings(home)) as platform:
        yield platform


@pytest.fixture
async def gateway(platform_under_test: PlatformUnderTest) -> AsyncIterator[Gateway]:
    gw = Gateway(platform_under_test.gateway_url, platform_under_test.issuer.mint)
    yield gw
    await gw.aclose()
