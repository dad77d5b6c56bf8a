"""What must hold after any fault: every accepted command's events are in the store once, on the
topic once per event id, in every downstream read model once; no dead letter came from a transient
fault; every consumer group caught up (lag 0).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import asyncpg
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from icam_testing.households import ADMIN, Journey, ResilientGateway
from icam_testing.published import Published, platform_topics, read_all

# the events a finished journey must have, exactly once each, by the service whose store holds them
EXPECTED: dict[str, dict[str, str]] = {
    "A": {"InvitationSent": "invitation", "CaseOpened": "case", "InterviewHeld": "case",
          "InvitationHonoured": "invitation", "OutcomeDecided": "case", "TrajectorySuspended": "case"},
    "B": {"InvitationSent": "invitation", "CaseOpened": "case", "InterviewHeld": "case",
          "InvitationHonoured": "invitation", "OutcomeDecided": "case",
          "ReferredToReturnPartner": "referral", "ReferralAcknowledged": "referral",
          "VoluntaryReturnCompleted": "referral", "TrajectoryClosed": "case"},
    "C": {"WalkInRegistered": "invitation", "CaseOpened": "case", "InterviewHeld": "case",
          "OutcomeDecided": "case", "TrajectoryClosed": "case"},
}  # fmt: skip
FINAL_STATUS = {"A": "suspended", "B": "closed", "C": "closed"}
SERVICES = ("invitation", "case", "referral", "notification", "privacy")  # each with a store and outbox


@dataclass
class Findings:
    """Everything that does not hold, by invariant (empty: all hold)."""

    problems: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def add(self, what: str, detail: str) -> None:
        self.problems[what].append(detail)

    def __bool__(self) -> bool:
        return bool(self.problems)

    def __str__(self) -> str:
        return "; ".join(f"{what}: {details[:5]}" for what, details in self.problems.items())


async def _fetch(url: str, sql: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(url)
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


async def stored_events(database_urls: dict[str, str]) -> dict[str, list[asyncpg.Record]]:
    """Every service's events: (event_id, event_type, stream_id, correlation_id)."""
    sql = "select event_id::text, event_type, stream_id, correlation_id from events"
    found = await asyncio.gather(*(_fetch(database_urls[s], sql) for s in SERVICES))
    return dict(zip(SERVICES, found, strict=True))


def check_store_and_topics(
    journeys: Iterable[Journey],
    stored: dict[str, list[asyncpg.Record]],
    published: list[Published],
    found: Findings,
) -> None:
    """Each journey's expected events once in their service's store; every stored event of the
    platform on its topic exactly once by event id."""
    on_topic = Counter(str(r.envelope.event_id) for r in published)
    by_journey: dict[tuple[str, str | None], Counter[str]] = defaultdict(Counter)
    for service, events in stored.items():
        for e in events:
            by_journey[(service, e["correlation_id"])][e["event_type"]] += 1
            if on_topic[e["event_id"]] != 1:
                found.add(
                    "stored event on its topic once",
                    f"{e['event_type']} {e['event_id']}: {on_topic[e['event_id']]}x",
                )
    for jr in journeys:
        for event_type, service in EXPECTED[jr.kind].items():
            count = by_journey[(service, jr.correlation_id)][event_type]
            if count != 1:
                found.add(
                    "accepted events in the store once", f"{jr.kind} {jr.household_id}: {event_type} {count}x"
                )


async def check_read_models(
    gw: ResilientGateway, journeys: Iterable[Journey], published: list[Published], found: Findings
) -> None:
    """The case, invitation, referral and notification read models agree with the events, once."""
    sent_on_topic = Counter(r.envelope.stream_id for r in published if r.event_type == "NotificationSent")
    for jr in journeys:
        assert jr.case_id is not None
        case = await gw.get(ADMIN, f"/api/cases/{jr.case_id}")
        if (case["status"], case["interviews_held"]) != (FINAL_STATUS[jr.kind], 1):
            found.add(
                "case read model",
                f"{jr.kind} {jr.case_id}: {case['status']}, {case['interviews_held']} interviews",
            )
        if jr.kind != "C":
            invitation = await gw.get(ADMIN, f"/api/invitations/{jr.entry_id}")
            if invitation["status"] != "honoured":
                found.add("invitation read model", f"{jr.entry_id}: {invitation['status']}")
        if jr.referral_id:
            referral = await gw.get(ADMIN, f"/api/referrals/{jr.referral_id}")
            if referral["status"] != "departed":
                found.add("referral read model", f"{jr.referral_id}: {referral['status']}")
        page = await gw.get(ADMIN, "/api/notifications", household_id=jr.household_id, limit=200)
        sent = Counter(str(n["notification_id"]) for n in page["items"] if n["status"] == "sent")
        if any(n != 1 for n in sent.values()) or any(sent_on_topic[n] != 1 for n in sent):
            found.add("notification read model", f"{jr.household_id}: {dict(sent)}")


def check_mail(messages: Iterable[object], found: Findings) -> None:
    """Each e-mail reached its recipient once (the SMTP server counts every copy, deduplicates none)."""
    copies = Counter(str(m["Message-ID"]) for m in messages)  # type: ignore[index]
    for message_id, n in copies.items():
        if n != 1:
            found.add("e-mail delivered once", f"{message_id}: {n} copies")


async def dead_letters(database_urls: dict[str, str]) -> dict[str, int]:
    """Dead letters per service (every consumer of the service)."""
    counts = await asyncio.gather(
        *(_fetch(database_urls[s], "select count(*) as n from dead_letters") for s in SERVICES)
    )
    return {s: int(rows[0]["n"]) for s, rows in zip(SERVICES, counts, strict=True)}


async def consumer_lag(bootstrap: str, prefix: str) -> dict[str, int]:
    """Records not yet committed, per consumer group of this platform's topics."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    probe = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None)
    await admin.start()
    await probe.start()
    try:
        lags: dict[str, int] = {}
        for group, _ in await admin.list_consumer_groups():
            offsets = await admin.list_consumer_group_offsets(group)
            ours = {tp: meta.offset for tp, meta in offsets.items() if tp.topic.startswith(prefix)}
            if ours:
                ends = await probe.end_offsets(list(ours))
                lags[group] = sum(max(ends[tp] - max(done, 0), 0) for tp, done in ours.items())
        return lags
    finally:
        await probe.stop()
        await admin.close()


async def waiting_work(database_urls: dict[str, str]) -> int:
    """Outbox rows not yet published and notifications not yet delivered, over the services."""
    outboxes = await asyncio.gather(
        *(_fetch(database_urls[s], "select count(*) as n from outbox") for s in SERVICES)
    )
    pending = await _fetch(
        database_urls["notification"],
        "select count(*) as n from notifications where status in ('pending', 'retrying')",
    )
    return sum(int(rows[0]["n"]) for rows in outboxes) + int(pending[0]["n"])


async def until_caught_up(
    bootstrap: str, prefix: str, database_urls: dict[str, str], timeout: float = 120
) -> dict[str, int]:
    """Until every outbox is empty, every notification delivered and every consumer group of the
    platform at lag 0, twice in a row (returns the last lags seen)."""
    deadline = asyncio.get_running_loop().time() + timeout
    lags: dict[str, int] = {}
    quiet = 0
    while asyncio.get_running_loop().time() < deadline and quiet < 2:
        lags = await consumer_lag(bootstrap, prefix)
        settled = lags and not any(lags.values()) and not await waiting_work(database_urls)
        quiet = quiet + 1 if settled else 0
        await asyncio.sleep(0.5)
    return lags


async def check_all(
    gw: ResilientGateway,
    journeys: list[Journey],
    *,
    bootstrap: str,
    prefix: str,
    database_urls: dict[str, str],
    mail: Iterable[object],
    dead_letters_allowed: int = 0,
) -> Findings:
    """Every invariant, after the consumers caught up."""
    found = Findings()
    for jr in journeys:
        if jr.error:
            found.add("journey completed", f"{jr.kind} {jr.household_id}: {jr.error}")
    lags = await until_caught_up(bootstrap, prefix, database_urls)
    if any(lags.values()) or not lags:
        found.add("consumer lag back to 0", str(lags))
    published = await read_all(bootstrap, platform_topics(prefix), skip_invalid=True)
    check_store_and_topics(
        [jr for jr in journeys if not jr.error], await stored_events(database_urls), published, found
    )
    await check_read_models(gw, [jr for jr in journeys if not jr.error], published, found)
    check_mail(mail, found)
    letters = sum((await dead_letters(database_urls)).values())
    if letters != dead_letters_allowed:
        found.add("dead letters", f"{letters} (expected {dead_letters_allowed})")
    return found
