"""Retention: a household's period passes, its persons are erased once — also across a restart —
unless a legal hold keeps them; a released hold lets retention erase at once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest
from privacy_harness import DPO, Feed, Privacy, invitation_sent, running

from icam_auth.issuer import LocalIssuer
from icam_privacy.config import PrivacySettings

pytestmark = pytest.mark.integration

_ERASED = "select count(*) from erasures where $1 = any(household_ids)"


@pytest.fixture
def short(settings: PrivacySettings) -> PrivacySettings:
    return replace(settings, retain_unanswered=timedelta(seconds=2))


async def test_an_unanswered_households_persons_are_erased_once_after_a_restart(
    short: PrivacySettings, issuer: LocalIssuer, feed: Feed
) -> None:
    household = uuid4()
    async with running(short, issuer) as privacy:
        await feed.publish(short.topics.invitation, invitation_sent(household, "OE-r1", "OE-r2"))
        await privacy.until("select 1 from timers where kind = 'retention' and fired_at is null")
    await asyncio.sleep(2.5)  # the period passes while the service is down
    async with running(short, issuer) as privacy:
        await privacy.until(_ERASED, household)
        await asyncio.sleep(1.0)  # a second firing would show now
        async with privacy.pool.acquire() as conn:
            rows = await conn.fetch("select * from erasures where $1 = any(household_ids)", household)
        assert len(rows) == 1
        assert sorted(rows[0]["person_ids"]) == ["OE-r1", "OE-r2"]
        assert (rows[0]["legal_basis"], rows[0]["ordered_by"]) == ("retention_elapsed", "retention")


async def test_a_legal_hold_keeps_the_data_and_its_release_lets_retention_erase(
    short: PrivacySettings, issuer: LocalIssuer, feed: Feed
) -> None:
    household = uuid4()
    async with running(short, issuer) as privacy:
        await feed.publish(short.topics.invitation, invitation_sent(household, "OE-h1"))
        await privacy.until("select 1 from households where household_id = $1", household)
        placed = await privacy.client.post(
            "/holds",
            json={"household_id": str(household), "basis": "appeal pending"},
            headers=privacy.as_(DPO),
        )
        assert placed.status_code == 201, placed.text
        await asyncio.sleep(3.0)
        await privacy.until("select 1 from timers where kind = 'retention' and fired_at is not null")
        assert await _count(privacy, household) == 0
        released = await privacy.client.post(
            f"/holds/{placed.json()['id']}/release", headers=privacy.as_(DPO)
        )
        assert released.status_code == 202, released.text
        await privacy.until(_ERASED, household)
        again = await privacy.client.post(f"/holds/{placed.json()['id']}/release", headers=privacy.as_(DPO))
        assert again.status_code == 409


async def _count(privacy: Privacy, household: object) -> int:
    async with privacy.pool.acquire() as conn:
        return int(await conn.fetchval(_ERASED, household))
