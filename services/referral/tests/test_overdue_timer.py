"""The acknowledgement deadline is a durable timer: ReferralOverdue when nobody acknowledged in time."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from icam_auth.issuer import LocalIssuer
from icam_referral.config import ReferralSettings

from .conftest import OUTCOME_AT, CaseFeed, Service, refer, running

pytestmark = pytest.mark.integration


async def test_an_unacknowledged_referral_becomes_overdue_after_its_deadline(
    service: Service, case_feed: CaseFeed
) -> None:
    # decided on 18 March 2026: fedasil had until 25 March 17:00 to acknowledge
    referral_id = await refer(service, case_feed, occurred_at=OUTCOME_AT)

    await service.until("select 1 from referral_view where referral_id = $1 and overdue", referral_id)
    inbox = (await service.client.get("/partners/fedasil/inbox", headers=service.partner("fedasil"))).json()

    [item] = inbox["items"]
    assert item["overdue"] is True and item["deadline_status"] == "overdue"
    assert item["acknowledge_by"].startswith("2026-03-25T16:00:00")  # 17:00 in Brussels, in UTC
    async with service.pool.acquire() as conn:
        overdue = await conn.fetchval("select count(*) from events where event_type = 'ReferralOverdue'")
    assert overdue == 1


async def test_an_acknowledged_referral_has_no_deadline_timer_left(
    service: Service, case_feed: CaseFeed
) -> None:
    referral_id = await refer(service, case_feed)
    await service.client.post(
        f"/referrals/{referral_id}/acknowledge", json={}, headers=service.partner("fedasil")
    )

    async with service.pool.acquire() as conn:
        timers = await conn.fetchval(
            "select count(*) from timers where payload->>'referral_id' = $1", str(referral_id)
        )
    assert timers == 0


async def test_the_deadline_timer_survives_a_restart(
    settings: ReferralSettings, issuer: LocalIssuer, case_feed: CaseFeed
) -> None:
    async with running(settings, issuer) as first:
        referral_id = await refer(first, case_feed)
        async with first.pool.acquire() as conn:
            due_at = await conn.fetchval("select due_at from timers where fired_at is null")
    assert due_at > datetime.now(UTC)

    # while the service is down, the deadline passes (the timer comes due, the clock moves on)
    later = replace(settings, clock=lambda: datetime.now(UTC) + timedelta(days=30))
    async with running(later, issuer) as second:
        async with second.pool.acquire() as conn:
            await conn.execute("update timers set due_at = now() - interval '1 second'")
        await second.until("select 1 from referral_view where referral_id = $1 and overdue", referral_id)
        async with second.pool.acquire() as conn:
            fired = await conn.fetchval("select fired_at is not null from timers")
    assert fired
