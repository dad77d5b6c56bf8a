"""The fault suite: households run through A, B and C while one fault at a time hits the platform.

After each: every accepted command's events are in the store once, on the topic once per event id,
in every downstream read model once; each e-mail reached its recipient once; no dead letter came
from a transient fault; every consumer group is back to lag 0 (`icam_testing.invariants`). The
tests run in order on one platform; the large version is `bench/faults` (bench/README.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from icam_kernel.dead_letters import discard, list_dead_letters, list_parked
from icam_platform import journeys as j
from icam_platform.settings import InfraSettings
from icam_testing import faults, households, invariants
from icam_testing.faults import PrivateServers
from icam_testing.households import Journey, ResilientGateway
from icam_testing.platform_under_test import PlatformUnderTest

# the first test also waits for the private servers and the platform to start (minutes on a busy machine)
pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

Fault = Callable[[], Awaitable[None]]


class LagSampler:
    """The consumer lag of the platform's groups, once a second, while a fault runs."""

    def __init__(self, platform: PlatformUnderTest) -> None:
        self.platform, self.highest = platform, 0
        self.samples = 0

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                lags = await asyncio.wait_for(
                    invariants.consumer_lag(self.platform.kafka_bootstrap, self.platform.topic_prefix), 5
                )
                self.highest, self.samples = max(self.highest, sum(lags.values())), self.samples + 1
            except Exception:  # the broker is down: nothing to read for now
                pass
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)


async def under(
    name: str, gw: ResilientGateway, platform: PlatformUnderTest, fault: Fault | None, *, lanes: int = 3,
    dead_letters_allowed: int = 0, figures: list[dict[str, Any]],
) -> list[Journey]:  # fmt: skip
    """Households under way in `lanes` lanes while `fault` strikes (a second in), then every invariant."""
    over, stop = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(
        households.keep_running(gw, lanes, name.split()[0] + uuid.uuid4().hex[:6], over)
    )
    sampler, retried = LagSampler(platform), gw.retried
    sampling = asyncio.create_task(sampler.run(stop))
    started = time.monotonic()
    if fault is not None:
        await asyncio.sleep(1.0)  # the journeys' first commands are in flight
        await fault()
    fault_seconds = time.monotonic() - started if fault else 0.0
    over.set()
    done = await running
    stop.set()
    await sampling
    found = await invariants.check_all(
        gw, done, bootstrap=platform.kafka_bootstrap, prefix=platform.topic_prefix,
        database_urls=platform.database_urls, mail=platform.mailbox.snapshot(),
        dead_letters_allowed=dead_letters_allowed,
    )  # fmt: skip
    seconds = [jr.seconds for jr in done if jr.seconds is not None] or [0.0]
    figures.append(
        {"fault": name, "journeys": len(done), "p50": statistics.median(seconds), "max": max(seconds),
         "fault_seconds": fault_seconds, "lag_max": sampler.highest if sampler.samples else None,
         "retried": gw.retried - retried}
    )  # fmt: skip
    assert not found, f"{name}: {found}\n{_tails(platform)}"
    return done


def _tails(platform: PlatformUnderTest) -> str:
    return "\n".join(
        f"--- {s.name}\n{platform.log_tail(s.name, 12, troubles_only=True)}" for s in platform.services
    )


def settings_of(platform: PlatformUnderTest) -> InfraSettings:
    return InfraSettings.from_env(platform.home)


async def test_a_baseline_without_faults(
    gw: ResilientGateway, faulty_platform: PlatformUnderTest, figures: list[dict[str, Any]]
) -> None:
    await under("none (baseline)", gw, faulty_platform, None, figures=figures)


async def test_each_process_killed_with_sigkill_in_turn_comes_back_and_nothing_is_lost_or_doubled(
    gw: ResilientGateway, faulty_platform: PlatformUnderTest, figures: list[dict[str, Any]]
) -> None:
    settings = settings_of(faulty_platform)

    restarts: dict[str, float] = {}

    async def kill_each_in_turn() -> None:
        for service in faulty_platform.services:
            killed, started = faults.kill_service(service, settings), time.monotonic()
            await faults.until_restarted(service, settings, killed)
            restarts[service.name] = round(time.monotonic() - started, 1)

    await under(
        "kill -9 each service in turn", gw, faulty_platform, kill_each_in_turn, figures=figures, lanes=1
    )
    figures[-1]["detail"] = f"back after (s): {restarts}"


async def test_kafka_killed_with_sigkill_and_started_again(
    gw: ResilientGateway,
    faulty_platform: PlatformUnderTest,
    private: PrivateServers,
    figures: list[dict[str, Any]],
) -> None:
    async def kill_kafka() -> None:
        private.kill_kafka()
        await asyncio.sleep(2)
        await asyncio.to_thread(private.start_kafka)

    await under("kill -9 Kafka, start again", gw, faulty_platform, kill_kafka, figures=figures)


async def test_postgresql_crashed_and_started_again(
    gw: ResilientGateway,
    faulty_platform: PlatformUnderTest,
    private: PrivateServers,
    figures: list[dict[str, Any]],
) -> None:
    async def restart_postgres() -> None:
        await asyncio.to_thread(private.crash_postgres)
        await asyncio.sleep(2)
        await asyncio.to_thread(private.start_postgres)

    await under("PostgreSQL crash + restart", gw, faulty_platform, restart_postgres, figures=figures)


async def test_postgresql_read_only_for_a_few_seconds(
    gw: ResilientGateway,
    faulty_platform: PlatformUnderTest,
    private: PrivateServers,
    figures: list[dict[str, Any]],
) -> None:
    async def read_only() -> None:
        async with faults.read_only(private.database_url):
            await asyncio.sleep(5)

    await under("PostgreSQL read-only 5 s", gw, faulty_platform, read_only, figures=figures)


async def test_serialization_failures_and_deadlocks_inside_handlers_transactions(
    gw: ResilientGateway, faulty_platform: PlatformUnderTest, figures: list[dict[str, Any]]
) -> None:
    urls = faulty_platform.database_urls
    # name: (service, table written inside the handler's transaction, SQLSTATE); each refused more
    # often than a handler's 5 attempts, so a transient failure counted as the handler's dead-letters
    injected = {
        "case_serialization": ("case", "received_events", "40001"),
        "referral_deadlock": ("referral", "inbox", "40P01"),
        "notification_serialization": ("notification", "inbox", "40001"),
    }

    async def refuse() -> None:
        for name, (service, table, state) in injected.items():
            await faults.refuse_inserts(urls[service], table, state, times=6, name=name)

    await under("serialization failure / deadlock", gw, faulty_platform, refuse, figures=figures)

    for name, (service, _, _) in injected.items():  # every injected refusal did happen
        assert await faults.refusals_left(urls[service], name, 6) == 0, name


async def test_an_event_larger_than_the_topic_takes_is_refused_with_a_413_and_nothing_wedges(
    gw: ResilientGateway, faulty_platform: PlatformUnderTest, figures: list[dict[str, Any]]
) -> None:
    coach = j.coach("faults-oversized-coach")
    crowd = j.household(name="X" * 100)
    members = [{**crowd.members[0], "person_id": f"OE{i:06d}", "given_name": "Y" * 100} for i in range(20)]

    async def oversized() -> None:
        with pytest.raises(j.GatewayError) as refused:
            await j.send_invitation(gw, coach, j.Household(crowd.household_id, members), at=j.soon(600))
        assert refused.value.status == 413
        assert refused.value.problem["type"] == "urn:icam:problem:event-too-large"

    await under("oversized event (413)", gw, faulty_platform, oversized, figures=figures)


# the services that consume invitation events: each dead-letters the poison once
READERS = ("case", "notification", "privacy")


async def test_a_poison_event_is_dead_lettered_once_per_consumer_and_holds_back_only_its_stream(
    gw: ResilientGateway, faulty_platform: PlatformUnderTest, figures: list[dict[str, Any]]
) -> None:
    invitation, household = uuid.uuid4(), uuid.uuid4()
    topic = faulty_platform.topic("icam.invitation.events")
    urls = faulty_platform.database_urls

    async def poison_then_a_good_one() -> None:
        good = _invitation_sent(invitation, household)
        poison = json.loads(good[1]) | {"event_id": str(uuid.uuid4())}
        del poison["data"]["members"]  # a contract breach: no handler can take it
        await _publish(
            faulty_platform.kafka_bootstrap, topic, [(good[0], json.dumps(poison).encode(), good[2]), good]
        )
        await _until(lambda: _parked(urls, READERS), what="the good one parked behind it")

    await under(
        "poison event (dead letter)",
        gw,
        faulty_platform,
        poison_then_a_good_one,
        dead_letters_allowed=len(READERS),
        figures=figures,
    )

    for service in READERS:  # the operator gives up on it: the stream flows again
        conn = await asyncpg.connect(urls[service])
        try:
            [letter] = await list_dead_letters(conn)
            assert letter["parked"] == 1
            await discard(conn, letter["id"])
        finally:
            await conn.close()
    await _until(lambda: _released(urls, READERS), what="the parked event applied")
    await j.find_case(
        gw, j.coach("faults-poison-coach"), str(household), timeout=60, coach="faults-poison-coach"
    )


def _invitation_sent(
    invitation: uuid.UUID, household: uuid.UUID
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """A valid InvitationSent as the invitation service's relay would publish it: key, value, headers."""
    from icam_contracts import Actor, EventEnvelope
    from icam_contracts.events import InvitationSent

    home = j.household()
    body = {**home.members[0]}
    event = InvitationSent.model_validate({
        "household_id": str(household), "invitation_id": str(invitation), "region": "brussels",
        "office": "brussels", "coach_id": "faults-poison-coach", "entry_channel": "invitation_letter",
        "language": "fr", "appointment_at": j.soon(600), "channels": ["email"],
        "members": [{"person_id": body["person_id"], "given_name": "Sam", "family_name": "Example",
                     "preferred_language": "fr", "contact": {"email": body["contact"]["email"]}}],
        "adults": 1, "minors": 0,
    })  # fmt: skip
    envelope = EventEnvelope.wrap(
        event, event_id=uuid.uuid4(), stream_version=1, occurred_at=datetime.now(UTC),
        recorded_at=datetime.now(UTC), actor=Actor(id="faults-poison-coach", role="coach"),
        correlation_id=str(uuid.uuid4()), causation_id=str(uuid.uuid4()),
    )  # fmt: skip
    return envelope.kafka_key(), envelope.kafka_value(), envelope.kafka_headers()


async def _publish(
    bootstrap: str, topic: str, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for key, value, headers in records:
            await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def _parked(urls: dict[str, str], services: tuple[str, ...]) -> bool:
    return all([len(await _rows(urls[s], list_parked)) == 1 for s in services])


async def _released(urls: dict[str, str], services: tuple[str, ...]) -> bool:
    return all([not await _rows(urls[s], list_parked) for s in services])


async def _rows(url: str, query: Callable[[Any], Awaitable[list[Any]]]) -> list[Any]:
    conn = await asyncpg.connect(url)
    try:
        return await query(conn)
    finally:
        await conn.close()


async def _until(check: Callable[[], Awaitable[bool]], *, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not await check():
        assert time.monotonic() < deadline, f"not reached: {what}"
        await asyncio.sleep(0.5)
