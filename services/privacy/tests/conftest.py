"""Fixtures: a running privacy service on real PostgreSQL and Kafka, and a feed of events."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from icam_auth.issuer import LocalIssuer
from icam_kernel.service import ServiceSettings
from icam_privacy.config import PrivacySettings, Topics

sys.path.insert(0, str(Path(__file__).parent))  # the harness beside these tests (importlib mode)

from privacy_harness import Feed, Privacy, running


@pytest.fixture
def issuer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalIssuer:
    issuer = LocalIssuer(tmp_path / "issuer")
    monkeypatch.setenv("ICAM_AUTH_JWKS", str(issuer.write_jwks()))
    monkeypatch.setenv("ICAM_AUTH_ISSUER", issuer.issuer)
    return issuer


@pytest.fixture
async def topics(kafka_topic: Callable[..., Awaitable[str]]) -> Topics:
    names = [
        await kafka_topic(name, partitions=1)
        for name in ("privacy", "invitation", "case", "referral", "notification")
    ]
    return Topics(*names)


@pytest.fixture
def settings(database_url: str, kafka_bootstrap: str, topics: Topics) -> PrivacySettings:
    service = ServiceSettings(
        service_name="privacy", database_url=database_url, kafka_bootstrap=kafka_bootstrap
    )
    return PrivacySettings(
        service=replace(service, privacy_topic=topics.privacy),
        kek=os.urandom(32),
        topics=topics,
        subscriber_grants=frozenset({"org:statbel"}),
    )


@pytest.fixture
async def privacy(settings: PrivacySettings, issuer: LocalIssuer) -> AsyncIterator[Privacy]:
    async with running(settings, issuer) as started:
        yield started


@pytest.fixture
async def feed(kafka_bootstrap: str) -> AsyncIterator[Feed]:
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        yield Feed(producer)
    finally:
        await producer.stop()
