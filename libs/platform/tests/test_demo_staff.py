"""The demo books its households for the staff the local OpenID provider lists, so that signing in
as any of them shows a workspace with content."""

from __future__ import annotations

import pytest

from icam_auth import staff
from icam_platform import demo
from icam_platform.demo_plan import REGIONS

pytestmark = pytest.mark.unit


def test_every_demo_coach_team_lead_and_partner_can_sign_in_locally() -> None:
    subjects = {m.subject for m in staff.directory()}
    assert set(REGIONS) == set(staff.REGIONS)
    for region in REGIONS:
        assert demo.lead_of(region).subject in subjects
        for n in range(1, demo.COACHES_PER_REGION + 1):
            assert demo.coach_of(region, n) == staff.find(demo.coach_of(region, n).subject).principal  # type: ignore[union-attr]
    assert {demo.partner_of(code).subject for code in demo.PARTNERS} <= subjects
    assert {"demo-ops", "demo-auditor"} <= subjects
