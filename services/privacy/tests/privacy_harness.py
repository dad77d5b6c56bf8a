"""What the privacy tests share: callers, a feed of other services' events, the running service."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from icam_auth import Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_contracts.base import Event
from icam_contracts.enums import Channel, EntryChannel, Language
from icam_contracts.envelope import Actor, EventEnvelope
from icam_contracts.events import InvitationSent
from icam_contracts.personal_data import PersonalData
from icam_privacy.app import create_app
from icam_privacy.config import PrivacySettings

DPO = Principal("dpo-1", Role.DATA_PROTECTION_OFFICER)
CASE_SERVICE = Principal("case", Role.SERVICE)


def invitation_sent(household_id: UUID, *person_ids: str) -> InvitationSent:
    members = tuple(
        PersonalData(person_id=p, given_name="Amina", is_minor=i > 0) for i, p in enumerate(person_ids)
    )
    return InvitationSent(
        household_id=household_id,
        invitation_id=uuid4(),
        region="brussels",
        office="brussels",
        coach_id="coach-1",
        entry_channel=EntryChannel.INVITATION_LETTER,
        language=Language.FR,
        appointment_at=datetime.now(UTC) + timedelta(days=7),
        channels=(Channel.POSTAL_LETTER,),
        members=members,
        adults=1,
        minors=len(members) - 1,
    )


class Feed:
    """Publishes other services' events on the test's topics."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer

    async def publish(self, topic: str, event: Event, occurred_at: datetime | None = None) -> None:
        now = datetime.now(UTC)
        envelope = EventEnvelope.wrap(
            event,
            event_id=uuid4(),
            stream_version=1,
            occurred_at=occurred_at or now,
            recorded_at=now,
            actor=Actor(id="icam-test", role="system", organisation="immigration_office"),
            correlation_id=str(event.household_id),
            causation_id=str(uuid4()),
        )
        await self.producer.send_and_wait(
            topic, envelope.kafka_value(), key=envelope.kafka_key(), headers=envelope.kafka_headers()
        )


@dataclass
class Privacy:
    app: FastAPI
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    issuer: LocalIssuer
    settings: PrivacySettings

    def as_(self, who: Principal) -> dict[str, str]:
        return {"authorization": f"Bearer {self.issuer.mint(who)}"}

    async def until(self, sql: str, *args: Any, timeout: float = 20) -> Any:
        async with asyncio.timeout(timeout):
            while True:
                async with self.pool.acquire() as conn:
                    if value := await conn.fetchval(sql, *args):
                        return value
                await asyncio.sleep(0.05)


@asynccontextmanager
async def running(settings: PrivacySettings, issuer: LocalIssuer) -> AsyncIterator[Privacy]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://privacy") as client:
            yield Privacy(app, client, app.state.runtime.pool, issuer, settings)


def secret_of(body: dict[str, Any], subject: str) -> bytes | None:
    key = next(k for k in body["keys"] if k["subject"] == subject)
    return base64.b64decode(key["secret"]) if key["secret"] else None
