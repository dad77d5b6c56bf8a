"""No leaks (issue 15, item 6), on the platform as processes.

A made-up person — names in Latin, Cyrillic and Arabic scripts, an e-mail address, a phone — goes
through a whole trajectory (invitation, name search, duplicate check, interview notes and an
outcome's rationale naming them, referral, departure), a poison event holding their name and
e-mail is dead-lettered, and requests carrying their strings are refused, through the gateway and
straight at the services. Then none of their strings is in a Kafka header or key of any topic read
from the beginning, in a metric label of any service, in a problem+json body, in a dead letter's
texts or an audit row of any database, or in any process's log.

The `system` token is refused every personal-data row at the gateway and at the owning service,
and a read that reaches a service directly is audited by that service and shown to the auditor
through the gateway (ADR 0015).
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from anyascii import anyascii
from prometheus_client.parser import text_string_to_metric_families

from icam_auth import Principal, Role
from icam_auth.policy import ROUTES, Route
from icam_platform.journeys import (
    Gateway,
    Household,
    acknowledge,
    coach,
    decide_outcome,
    eventually,
    hold_interview,
    open_case_of,
    partner,
    record_departure,
    referral_in_inbox,
    send_invitation,
    soon,
    wait_for_status,
)
from icam_testing.platform_under_test import PlatformUnderTest

pytestmark = pytest.mark.e2e

TAG = uuid.uuid4().hex[:6]
GIVEN, SECOND, FAMILY = "Xochiquetzal", "Всеволодовна", "الزمردية"
EMAIL, PHONE = f"xochiquetzal.{TAG}@example.org", "+32 470 98 76 54"
NAMES = (GIVEN, SECOND, FAMILY)
STRINGS = (*NAMES, EMAIL, PHONE, "+32470987654", "470987654", "470 98 76 54")
SYSTEM = Principal("icam-batch", Role.SYSTEM)
AUDITOR = Principal("auditor-no-leaks", Role.AUDITOR)


def spellings() -> set[str]:
    """Each string as it may be written: as is, escaped in JSON, percent-encoded in a URL, and the
    names in lowercase Latin letters (the caseload's search keys)."""
    found = set()
    for text in STRINGS:
        found |= {text, json.dumps(text)[1:-1], quote(text), quote(text, safe="")}
    found |= {anyascii(name).lower() for name in NAMES}
    return found


SPELLINGS = spellings()


def leaks(text: str) -> list[str]:
    lowered = text.lower()
    return sorted(s for s in SPELLINGS if s.lower() in lowered)


def the_person() -> Household:
    """One adult with names in three scripts and contact details, and a child."""
    person_id = f"OE{TAG}"
    adult = {
        "role": "adult",
        "person_id": person_id,
        "given_name": f"{GIVEN} {SECOND}",
        "family_name": FAMILY,
        "preferred_language": "fr",
        "contact": {
            "postal_address": {
                "street": "Rue de la Loi",
                "house_number": "16",
                "postal_code": "1000",
                "municipality": "Bruxelles",
            },
            "email": EMAIL,
            "phone": PHONE,
        },
    }
    child = {"role": "minor", "person_id": f"{person_id}1", "given_name": SECOND, "family_name": FAMILY}
    return Household(str(uuid.uuid4()), [adult, child])


async def test_a_trajectory_leaves_no_personal_data_in_headers_keys_metric_labels_or_logs(
    gateway: Gateway, platform_under_test: PlatformUnderTest
) -> None:
    platform = platform_under_test
    me, fedasil = coach(f"coach-leaks-{TAG}", "brussels"), partner(f"fedasil-leaks-{TAG}", "fedasil")
    home = the_person()

    sent = await send_invitation(gateway, me, home, at=soon(60), channels=("email", "sms", "postal_letter"))
    case = await open_case_of(gateway, me, home)
    await gateway.get(me, "/api/caseload", region="brussels", q=GIVEN.lower())
    await gateway.get(me, "/api/caseload", region="brussels", q=SECOND)
    people = [{k: m[k] for k in ("person_id", "given_name", "family_name")} for m in home.members]
    await gateway.post(me, "/api/duplicates/check", {"members": people})
    notes = f"{GIVEN} {SECOND} {FAMILY} explained the situation; reachable at {EMAIL} or {PHONE}"
    await hold_interview(gateway, me, case["case_id"], home, notes=notes)
    await decide_outcome(
        gateway,
        me,
        case["case_id"],
        "return_accepted",
        consent_to_referral=True,
        preferred_partner="fedasil",
        rationale=f"{GIVEN} wishes to go home",
    )
    referral = await referral_in_inbox(gateway, fedasil, case["case_id"])
    await acknowledge(gateway, fedasil, str(referral["referral_id"]))
    await record_departure(gateway, fedasil, str(referral["referral_id"]))
    await wait_for_status(gateway, me, case["case_id"], "closed")
    poison = await publish_a_poison_invitation(platform, sent["stream_id"])
    await eventually(lambda: dead_lettered(platform, poison), what="the poison event in a dead-letter topic")
    refusals = await problems_naming_the_person(gateway, platform, me, home, case["case_id"])

    records = await every_record(platform)
    assert any(poison.encode() in dict(r.headers).get("event_id", b"") for r in records)
    assert [where for where, text in kafka_texts(records) if leaks(text)] == []
    assert {service: found for service, found in (await metric_labels(platform)).items() if found} == {}
    assert {where: leaks(body) for where, body in refusals.items() if leaks(body)} == {}
    texts = await database_texts(platform)
    assert any(where.startswith("case dead_letters") for where in texts), "no dead letter recorded"
    assert any(where.startswith("gateway audit_log") and "q=[redacted]" in t for where, t in texts.items())
    assert {where: leaks(text) for where, text in texts.items() if leaks(text)} == {}
    assert {log: found for log, found in log_leaks(platform)} == {}


async def problems_naming_the_person(
    gateway: Gateway, platform: PlatformUnderTest, me: Principal, home: Household, case_id: str
) -> dict[str, str]:
    """Requests a service refuses, each carrying the person's strings where the refusal is about:
    through the gateway and straight to the owning service. Their problem+json bodies, by request."""
    adult = {**home.members[0], "birth_date": f"{GIVEN} {EMAIL}"}
    bad_invitation = {"household_id": str(uuid.uuid4()), "members": [adult], "appointment_at": PHONE}
    asks: list[tuple[str, str, dict[str, Any] | None, dict[str, str]]] = [
        ("POST", "/invitations", bad_invitation, {}),
        ("POST", "/duplicates/check", {"members": [{"given_name": GIVEN, "family_name": EMAIL * 40}]}, {}),
        ("POST", f"/cases/{case_id}/interviews", {"notes": f"{GIVEN} {PHONE}", "occurred_at": EMAIL}, {}),
        ("GET", "/caseload", None, {"q": f"{GIVEN} {EMAIL}" * 10, "status": SECOND}),
        ("GET", f"/cases/{GIVEN}", None, {}),
    ]
    owner = {"/invitations": "invitation", "/duplicates/check": "invitation"}
    urls = {s.name: s.url for s in platform.services}
    headers = platform.headers(me.role, me.subject, region="brussels")
    bodies: dict[str, str] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for method, path, body, params in asks:
            service = owner.get(path, "case")
            for door, url in (
                ("gateway", f"{platform.gateway_url}/api{path}"),
                (service, urls[service] + path),
            ):
                answer = await client.request(method, url, json=body, params=params, headers=headers)
                assert 400 <= answer.status_code < 500, f"{door} {method} {path}: {answer.status_code}"
                assert answer.headers["content-type"].startswith("application/problem+json"), answer.text
                bodies[f"{door} {method} {path} {answer.status_code}"] = answer.text
    return bodies


# what each database keeps as text that item 6 promises free of personal data; the records
# themselves (`value`) are kept sealed for replay, as they came
TEXTS = {
    "dead_letters": (
        "select id::text, concat_ws(' ', error_type, error_message, headers::text, key) from dead_letters"
    ),
    "access_audit": "select id::text, concat_ws(' ', path, query, purpose) from access_audit",
    "audit_log": "select id::text, concat_ws(' ', path, query, purpose) from audit_log",
}


async def database_texts(platform: PlatformUnderTest) -> dict[str, str]:
    """Every service's dead-letter texts and audit rows, by `<service> <table> <id>`."""
    texts: dict[str, str] = {}
    for service, url in platform.database_urls.items():
        conn = await asyncpg.connect(url)
        try:
            for table, sql in TEXTS.items():
                if await conn.fetchval("select to_regclass($1) is not null", table):
                    texts |= {f"{service} {table} {rid}": text for rid, text in await conn.fetch(sql)}
        finally:
            await conn.close()
    return texts


async def publish_a_poison_invitation(platform: PlatformUnderTest, invitation_id: str) -> str:
    """The invitation's event again, as another event whose first member's birth date holds the
    person's name and e-mail address: no consumer can handle it, each dead-letters it."""
    [original] = [
        r for r in await every_record(platform, "icam.invitation.events") if r.key == invitation_id.encode()
    ][:1]
    envelope = json.loads(original.value)
    envelope["event_id"] = poison_id = str(uuid.uuid4())
    member = envelope["data"]["members"][0]
    assert member.get("sealed"), "the invitation's members travel sealed"
    # a member in clear (no seal to open), whose birth date is their name and e-mail address
    member |= {"sealed": None, "given_name": GIVEN, "family_name": FAMILY, "birth_date": f"{GIVEN} {EMAIL}"}
    headers = [(k, poison_id.encode() if k == "event_id" else v) for k, v in original.headers]
    producer = AIOKafkaProducer(bootstrap_servers=platform.kafka_bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            original.topic, json.dumps(envelope).encode(), key=original.key, headers=headers
        )
    finally:
        await producer.stop()
    return poison_id


async def dead_lettered(platform: PlatformUnderTest, event_id: str) -> bool:
    dlq = await every_record(platform, "icam.invitation.events.dlq")
    return any(
        dict(r.headers).get("event_id") == event_id.encode() and "dlq_error" in dict(r.headers) for r in dlq
    )


async def every_record(platform: PlatformUnderTest, topic: str | None = None) -> list[Any]:
    """Every record of the platform's topics (or of one), read from the beginning to the end."""
    partitions = await platform_partitions(platform, platform.topic(topic) if topic else None)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=platform.kafka_bootstrap, group_id=None, enable_auto_commit=False
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        return await _read_to_the_end(consumer, partitions)
    finally:
        await consumer.stop()


async def _read_to_the_end(consumer: AIOKafkaConsumer, partitions: list[TopicPartition]) -> list[Any]:
    ends = await consumer.end_offsets(partitions)
    starts = await consumer.beginning_offsets(partitions)
    next_offset = {tp: starts[tp] for tp in partitions}
    records: list[Any] = []
    async with asyncio.timeout(60):
        while any(next_offset[tp] < ends[tp] for tp in partitions):
            for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                records += batch
                next_offset[tp] = max(next_offset[tp], batch[-1].offset + 1) if batch else next_offset[tp]
    return records


async def platform_partitions(platform: PlatformUnderTest, topic: str | None = None) -> list[TopicPartition]:
    """The partitions of the platform's topics (those of its prefix), or of one topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap)
    await admin.start()
    try:
        names = (
            [topic]
            if topic
            else [t for t in await admin.list_topics() if t.startswith(platform.topic_prefix)]
        )
        described = await admin.describe_topics(sorted(names))
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]


def kafka_texts(records: list[Any]) -> Iterator[tuple[str, str]]:
    """Where and what: each record's key and each header, as text (the values are not read)."""
    for r in records:
        where = f"{r.topic}@{r.partition}:{r.offset}"
        yield f"{where} key", (r.key or b"").decode(errors="replace")
        for name, value in r.headers:
            yield f"{where} header {name}", f"{name}={value.decode(errors='replace')}"


async def metric_labels(platform: PlatformUnderTest) -> dict[str, list[str]]:
    """Per service that serves /metrics, the label values that spell one of the strings."""
    found: dict[str, list[str]] = {}
    async with httpx.AsyncClient(timeout=10) as client:
        for service in platform.services:
            answer = await client.get(f"{service.url}/metrics")
            if answer.status_code != 200 or "# TYPE" not in answer.text:
                continue
            values = [
                v
                for family in text_string_to_metric_families(answer.text)
                for s in family.samples
                for v in s.labels.values()
            ]
            assert values, f"{service.name} serves metrics without labels"
            found[service.name] = [v for v in values if leaks(v)]
    assert {"invitation", "case", "referral", "notification"} <= found.keys()
    return found


def log_leaks(platform: PlatformUnderTest) -> Iterator[tuple[str, list[str]]]:
    logs = sorted(platform.logs.glob("*.log"))
    assert {"gateway.log", "case.log"} <= {log.name for log in logs}
    for log in logs:
        text = log.read_text(errors="replace")
        if found := leaks(text):
            lines = [line[:300] for line in text.splitlines() if leaks(line)][:3]
            yield log.name, [*found, *lines]


def _concrete(route: Route, principal: Principal) -> str:
    known = {
        "desk": "brussels_pacheco",
        "office": "brussels",
        "code": "fedasil",
        "coach_id": principal.subject,
    }
    return re.sub(r"\{([^}]+)\}", lambda m: known.get(m.group(1), str(uuid.uuid4())), route.path)


@pytest.mark.parametrize(
    "route", [r for r in ROUTES if r.personal_data], ids=lambda r: f"{r.method} {r.path}"
)
async def test_the_system_token_is_refused_every_read_of_personal_data_at_the_gateway_and_the_service(
    platform_under_test: PlatformUnderTest, route: Route
) -> None:
    platform = platform_under_test
    headers = platform.headers(SYSTEM.role, SYSTEM.subject)
    path = _concrete(route, SYSTEM)
    # an internal row (between services) is not forwarded by the gateway: 404 there, whoever asks
    gateway_door = (f"{platform.gateway_url}/api{path}", 404 if route.internal else 403)
    doors = [gateway_door]
    if route.service != "gateway":
        doors.append((next(s.url for s in platform.services if s.name == route.service) + path, 403))

    async with httpx.AsyncClient(timeout=10) as client:
        for url, refused in doors:
            body = {
                "POST /duplicates/check": {"members": [{"given_name": GIVEN, "family_name": FAMILY}]},
                "POST /keys/release": {"key_ids": [str(uuid.uuid4())]},
            }.get(f"{route.method} {route.path}")
            answer = await client.request(route.method, url, json=body, headers=headers)
            assert answer.status_code == refused, f"{url}: {answer.status_code}"
            assert (
                answer.json()["type"] == f"urn:icam:problem:{'forbidden' if refused == 403 else 'not-found'}"
            )


async def test_a_direct_read_is_audited_by_the_service_and_a_read_through_the_gateway_by_the_gateway_only(
    gateway: Gateway, platform_under_test: PlatformUnderTest
) -> None:
    platform = platform_under_test
    me = coach(f"coach-doors-{TAG}", "brussels")
    home = the_person()
    await send_invitation(gateway, me, home, at=soon(60))
    case = await open_case_of(gateway, me, home)  # through the gateway: audited there, with its proof
    case_service = next(s.url for s in platform.services if s.name == "case")
    headers = platform.headers(me.role, me.subject, region="brussels") | {"x-purpose": "checking a file"}

    async with httpx.AsyncClient(timeout=10) as client:
        direct = await client.get(f"{case_service}/cases/{case['case_id']}", headers=headers)
    assert direct.status_code == 200

    reads = await gateway.get(AUDITOR, "/api/audit", subject=me.subject, limit=200)
    doors = {(row["door"], row["service"], row["path"]) for row in reads}
    assert ("direct", "case", f"/cases/{case['case_id']}") in doors
    assert [r for r in reads if r["door"] == "direct"] == [
        r for r in reads if r["purpose"] == "checking a file"
    ]
    assert any(door == "gateway" and path == "/caseload" for door, _, path in doors)
    assert await gateway.get(AUDITOR, "/api/audit/direct", subject=me.subject) == [
        r for r in reads if r["door"] == "direct"
    ]
