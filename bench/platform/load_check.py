"""The final consistency check: for every journey, the events on the topics and the case,
invitation, referral and notification read models tell the same story — nothing lost, nothing
doubled."""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from load_driver import ADMIN, Journey

from icam_platform import journeys as j
from icam_testing.published import Published, platform_topics, read_all

# Each event type a finished journey must have published exactly once, and which aggregate keys it.
EXPECTED: dict[str, dict[str, str]] = {
    "A": {
        "InvitationSent": "entry", "CaseOpened": "case", "InterviewHeld": "case",
        "InvitationHonoured": "entry", "OutcomeDecided": "case", "TrajectorySuspended": "case",
    },
    "B": {
        "InvitationSent": "entry", "CaseOpened": "case", "InterviewHeld": "case",
        "InvitationHonoured": "entry", "OutcomeDecided": "case", "ReferredToReturnPartner": "referral",
        "ReferralAcknowledged": "referral", "VoluntaryReturnCompleted": "referral",
        "TrajectoryClosed": "case",
    },
    "C": {
        "WalkInRegistered": "entry", "CaseOpened": "case", "InterviewHeld": "case",
        "OutcomeDecided": "case", "TrajectoryClosed": "case",
    },
}  # fmt: skip
FINAL_CASE_STATUS = {"A": "suspended", "B": "closed", "C": "closed"}


@dataclass
class Report:
    checked: int = 0
    inconsistent: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    redelivered_copies: int = 0  # the same event id twice on a topic: allowed (at least once), counted

    @property
    def problems(self) -> int:
        return sum(len(v) for v in self.inconsistent.values())


def aggregate_of(jr: Journey, which: str) -> str | None:
    return {"entry": jr.entry_id, "case": jr.case_id, "referral": jr.referral_id}[which]


def check_events(jr: Journey, records: list[Published], report: Report) -> None:
    """Each expected event exactly once (by event id), keyed by its aggregate; one correlation id."""
    by_type: dict[str, set[str]] = defaultdict(set)
    for r in records:
        by_type[r.event_type].add(str(r.envelope.event_id))
        if r.key != r.envelope.stream_id:
            report.inconsistent["event keyed by another aggregate"].append(f"{jr.index}:{r.event_type}")
    for event_type, which in EXPECTED[jr.kind].items():
        ids = by_type.get(event_type, set())
        if len(ids) != 1:
            report.inconsistent[f"{event_type} published {len(ids)}x"].append(str(jr.index))
            continue
        record = next(r for r in records if r.event_type == event_type)
        if record.envelope.stream_id != aggregate_of(jr, which):
            report.inconsistent[f"{event_type} on the wrong stream"].append(str(jr.index))
    sent = [r.envelope.stream_id for r in records if r.event_type == "NotificationSent"]
    if len(sent) != len(set(sent)):
        report.inconsistent["a notification sent twice"].append(str(jr.index))


async def check_read_models(gw: j.Gateway, jr: Journey, records: list[Published], report: Report) -> None:
    """The read models of the four services agree with the journey's events."""
    assert jr.case_id
    case = await gw.get(ADMIN, f"/api/cases/{jr.case_id}")
    held = sum(1 for r in records if r.event_type == "InterviewHeld")
    if case["status"] != FINAL_CASE_STATUS[jr.kind] or case["interviews_held"] != held:
        report.inconsistent["case read model"].append(
            f"{jr.index}:{case['status']}/{case['interviews_held']}"
        )
    if jr.kind != "C":
        invitation = await gw.get(ADMIN, f"/api/invitations/{jr.entry_id}")
        if invitation["status"] != "honoured":
            report.inconsistent["invitation read model"].append(f"{jr.index}:{invitation['status']}")
    if jr.referral_id:
        referral = await gw.get(ADMIN, f"/api/referrals/{jr.referral_id}")
        if referral["status"] != "departed":
            report.inconsistent["referral read model"].append(f"{jr.index}:{referral['status']}")
    page = await gw.get(ADMIN, "/api/notifications", household_id=jr.household_id, limit=200)
    in_model = Counter(str(n["notification_id"]) for n in page["items"] if n["status"] == "sent")
    on_topic = Counter(r.envelope.stream_id for r in records if r.event_type == "NotificationSent")
    if set(in_model) != set(on_topic) or any(n > 1 for n in in_model.values()):
        report.inconsistent["notification read model"].append(
            f"{jr.index}: model {len(in_model)} sent, topic {len(on_topic)}"
        )


async def check(gw: j.Gateway, bootstrap: str, prefix: str, journeys: list[Journey]) -> Report:
    """Read every topic once, then check each finished journey against it and the read models."""
    records = await read_all(bootstrap, platform_topics(prefix))
    report = Report(redelivered_copies=sum(n - 1 for n in _copies(records).values() if n > 1))
    by_journey: dict[str, list[Published]] = defaultdict(list)
    seen: set[tuple[str, str]] = set()
    for r in records:
        key = (r.topic, str(r.envelope.event_id))
        if key not in seen:  # a redelivered copy is the same event: count it once
            seen.add(key)
            by_journey[str(r.envelope.correlation_id)].append(r)
    gate = asyncio.Semaphore(16)

    async def one(jr: Journey) -> None:
        async with gate:
            mine = by_journey.get(str(jr.correlation_id), [])
            check_events(jr, mine, report)
            await check_read_models(gw, jr, mine, report)
            report.checked += 1

    await asyncio.gather(*(one(jr) for jr in journeys if not jr.error and jr.case_id))
    return report


def _copies(records: list[Published]) -> Counter[tuple[str, str]]:
    return Counter((r.topic, str(r.envelope.event_id)) for r in records)
