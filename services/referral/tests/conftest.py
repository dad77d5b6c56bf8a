"""Shared test data: a household, the default partner catalogue, and a Belgian calendar."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from icam_auth import Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_contracts.base import Event
from icam_contracts.enums import ActorRole, EntryChannel, Language, Outcome
from icam_contracts.envelope import Actor as ContractActor
from icam_contracts.envelope import EventEnvelope
from icam_contracts.events import CaseOpened, OutcomeDecided
from icam_contracts.events.decisions import DecisionProvenance
from icam_contracts.personal_data import PersonalData
from icam_contracts.reference import DEFAULT_REFERENCE_DATA
from icam_kernel.service import ServiceSettings
from icam_referral.app import create_app
from icam_referral.config import ReferralSettings
from icam_referral.domain import Household
from icam_referral.domain.partners import PartnerCatalogue, default_catalogue
from icam_referral.domain.working_days import WorkingCalendar
from icam_referral.referrals import referral_id_for


def adult(person_id: str = "8123456", **extra: object) -> PersonalData:
    """A referred adult with identity and contact."""
    return PersonalData.model_validate(
        {
            "person_id": person_id,
            "given_name": "Amina",
            "family_name": "Example",
            "birth_date": "1990-04-12",
            "is_minor": False,
            "nationality": "MA",
            "preferred_language": "fr",
            "contact": {"email": "a.example@example.org", "phone": "+32470123456"},
            **extra,
        }
    )


def household(
    region: str = "brussels", language: Language = Language.FR, case_id: UUID | None = None
) -> Household:
    """A household of one adult and one child."""
    child = PersonalData(person_id="8123457", given_name="Yasmine", is_minor=True)
    return Household(
        case_id=case_id or uuid4(),
        household_id=uuid4(),
        region=region,
        language=language,
        members=(adult(), child),
    )


@pytest.fixture
def make_household() -> Callable[..., Household]:
    return household


@pytest.fixture
def catalogue() -> PartnerCatalogue:
    return PartnerCatalogue(default_catalogue(DEFAULT_REFERENCE_DATA))


@pytest.fixture
def calendar() -> WorkingCalendar:
    return WorkingCalendar()


# ---- integration: a running referral service on real PostgreSQL and Kafka -------------------

OUTCOME_AT = datetime(2026, 3, 18, 15, 10, tzinfo=ZoneInfo("Europe/Brussels"))
SECRET_NOTE = "interview notes: must never reach a partner"


class CaseFeed:
    """Publishes case events on the test's case topic, as the case service would."""

    def __init__(self, producer: AIOKafkaProducer, topic: str) -> None:
        self.producer, self.topic = producer, topic

    async def publish(
        self,
        event: Event,
        *,
        correlation_id: str | None = None,
        event_id: UUID | None = None,
        occurred_at: datetime | None = None,
        version: int = 1,
        extra_data: dict[str, Any] | None = None,
    ) -> EventEnvelope:
        """Publish `event` in an envelope; returns the envelope (publish it again to redeliver).

        `extra_data` adds fields to the payload, as a newer producer version might."""
        now = datetime.now(UTC)
        envelope = EventEnvelope.wrap(
            event,
            event_id=event_id or uuid4(),
            stream_version=version,
            occurred_at=occurred_at or now,
            recorded_at=now,
            actor=ContractActor(id="coach-4711", role="coach", organisation="immigration_office"),
            correlation_id=correlation_id or str(uuid4()),
            causation_id=str(uuid4()),
        )
        if extra_data:
            envelope = envelope.model_copy(update={"data": envelope.data | extra_data})
        await self.send(envelope)
        return envelope

    async def send(self, envelope: EventEnvelope) -> None:
        """Send an envelope as it is (a redelivery when it was sent before)."""
        await self.producer.send_and_wait(
            self.topic, envelope.kafka_value(), key=envelope.kafka_key(), headers=envelope.kafka_headers()
        )


def case_opened(
    case_id: UUID, household_id: UUID, region: str = "brussels", coach: str = "coach-4711"
) -> CaseOpened:
    """A household of an adult and a child opened in `region`."""
    return CaseOpened(
        household_id=household_id,
        case_id=case_id,
        region=region,
        office="brussels",
        coach_id=coach,
        entry_channel=EntryChannel.INVITATION_LETTER,
        language=Language.FR,
        members=(adult(), PersonalData(person_id="8123457", given_name="Yasmine", is_minor=True)),
        adults=1,
        minors=1,
    )


def outcome(
    case_id: UUID,
    household_id: UUID,
    *,
    consent: bool | None = True,
    decision_id: UUID | None = None,
    **extra: Any,
) -> OutcomeDecided:
    """Return accepted, with consent unless told otherwise."""
    return OutcomeDecided(
        household_id=household_id,
        case_id=case_id,
        decision_id=decision_id or uuid4(),
        outcome=extra.pop("outcome", Outcome.RETURN_ACCEPTED),
        provenance=DecisionProvenance(
            decided_by="coach-4711", role=ActorRole.COACH, legal_basis="art. 74/2", policy_version="2024.2"
        ),
        communicated_in=Language.FR,
        consent_to_referral=consent,
        **extra,
    )


class Service:
    """A started referral app, its HTTP client, its database, and token minting."""

    def __init__(
        self, app: FastAPI, client: httpx.AsyncClient, pool: asyncpg.Pool, issuer: LocalIssuer
    ) -> None:
        self.app, self.client, self.pool, self.issuer = app, client, pool, issuer

    def auth(
        self, role: Role, *, subject: str = "user-1", region: str | None = None, org: str | None = None
    ) -> dict[str, str]:
        """Headers of a caller in `role`."""
        token = self.issuer.mint(Principal(subject=subject, role=role, region=region, organisation=org))
        return {"Authorization": f"Bearer {token}"}

    def partner(self, code: str) -> dict[str, str]:
        """Headers of a user of return partner `code`."""
        return self.auth(Role.RETURN_PARTNER, subject=f"{code}-user", org=code)

    async def until(self, sql: str, *args: Any, timeout: float = 20) -> Any:
        """Wait until `sql` returns a truthy value; return it."""
        async with asyncio.timeout(timeout):
            while True:
                async with self.pool.acquire() as conn:
                    value = await conn.fetchval(sql, *args)
                if value:
                    return value
                await asyncio.sleep(0.05)


@dataclass
class Topics:
    case: str
    referral: str


@pytest.fixture
async def topics(kafka_topic: Callable[..., Awaitable[str]]) -> Topics:
    return Topics(
        case=await kafka_topic("case", partitions=2), referral=await kafka_topic("referral", partitions=2)
    )


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalIssuer:
    issuer = LocalIssuer(tmp_path / "issuer")
    monkeypatch.setenv("ICAM_AUTH_JWKS", str(issuer.write_jwks()))
    monkeypatch.setenv("ICAM_AUTH_ISSUER", issuer.issuer)
    return issuer


@pytest.fixture
def settings(
    database_url: str, kafka_bootstrap: str, topics: Topics, unique_name: Callable[[str], str]
) -> ReferralSettings:
    return ReferralSettings(
        service=ServiceSettings(
            service_name="referral", database_url=database_url, kafka_bootstrap=kafka_bootstrap
        ),
        referral_topic=topics.referral,
        case_topic=topics.case,
        consumer_group=unique_name("referral"),
    )


@asynccontextmanager
async def running(settings: ReferralSettings, issuer: LocalIssuer) -> AsyncIterator[Service]:
    """Start the app's lifespan (migrations, broker, relay, timers) and an HTTP client on it."""
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://referral") as client:
            yield Service(app, client, app.state.runtime.pool, issuer)


@pytest.fixture
async def service(settings: ReferralSettings, issuer: LocalIssuer) -> AsyncIterator[Service]:
    async with running(settings, issuer) as started:
        yield started


@pytest.fixture
async def case_feed(kafka_bootstrap: str, topics: Topics) -> AsyncIterator[CaseFeed]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        yield CaseFeed(producer, topics.case)
    finally:
        await producer.stop()


async def refer(
    service: Service, case_feed: CaseFeed, *, occurred_at: datetime | None = None, **extra: Any
) -> UUID:
    """A household referred through Kafka as the case service would cause it; the new referral's id."""
    case_id, household_id = uuid4(), uuid4()
    await case_feed.publish(case_opened(case_id, household_id))
    decided = outcome(case_id, household_id, **extra)
    await case_feed.publish(decided, occurred_at=occurred_at)
    referral_id = referral_id_for(decided.decision_id, 1)
    await service.until("select 1 from referral_view where referral_id = $1", referral_id)
    return referral_id
