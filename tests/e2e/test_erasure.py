"""Erasure end to end: a person met through a whole journey (names in three scripts, contact
details, a note and a rationale that name them, a document) is erased by the data-protection
officer through the gateway; then every store of the platform is scanned for their strings —
every table of every service's database, every topic from its beginning (values, keys, headers),
the service logs — and none is found in clear, while a person of another household stays whole."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import uuid
import zlib
from collections.abc import Iterable
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from anyascii import anyascii
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from icam_auth import Principal, Role
from icam_contracts.envelope import EventEnvelope
from icam_platform.journeys import (
    Gateway,
    GatewayError,
    coach,
    decide_outcome,
    eventually,
    hold_interview,
    household,
    open_case_of,
    partner,
    referral_in_inbox,
    send_invitation,
    soon,
)
from icam_testing.platform_under_test import PlatformUnderTest

pytestmark = pytest.mark.e2e

DPO = Principal("dpo-e2e", Role.DATA_PROTECTION_OFFICER)
AUDITOR = Principal("auditor-e2e", Role.AUDITOR)
OPERATIONS = Principal("ops-e2e-erasure", Role.OPS_VIEWER)
REGISTRY = Principal("registry-e2e", Role.SUBSCRIBER, organisation="e2e-registry")
STRANGER = Principal("stranger-e2e", Role.SUBSCRIBER, organisation="nobody")
SERVICES = {"invitation", "case", "referral", "notification"}


def made_up_person(tag: str) -> tuple[Any, list[str]]:
    """A household of one adult whose every personal string is unique to this run."""
    home = household(name="القاسمي", email=f"zhyldyz.{tag}@example.org")
    adult = home.members[0]
    adult["given_name"] = "Zhyldyz Зульфия"
    adult["contact"]["phone"] = f"+32471{int(tag, 16) % 10**6:06d}"
    adult["contact"]["postal_address"]["street"] = f"Rue Xyzzyplein {tag}"
    needles = ["Zhyldyz", "Зульфия", "القاسمي", adult["contact"]["email"], adult["contact"]["phone"]]
    needles += [f"Xyzzyplein {tag}", f"Osh-{tag}"]
    return home, needles


async def journey_of(gateway: Gateway, me: Principal, home: Any, tag: str) -> dict[str, Any]:
    """Invitation, intake with a note naming them, a document, outcome B and the partner's referral."""
    await send_invitation(gateway, me, home, at=soon(120))
    case = await open_case_of(gateway, me, home)
    note = f"Zhyldyz Зульфия القاسمي fears the road to Osh-{tag}"
    await hold_interview(gateway, me, case["case_id"], home, notes=note)
    pdf = b"%PDF-1.4\n1 0 obj<<>>endobj\n% Zhyldyz " + f"Osh-{tag}".encode() + b"\ntrailer<<>>\n%%EOF\n"
    added = await gateway.client.post(
        f"{gateway.base_url}/api/cases/{case['case_id']}/documents",
        params={"kind": "travel_document", "person_id": home.adult_id},
        content=pdf,
        headers={"authorization": f"Bearer {gateway.tokens(me)}", "content-type": "application/pdf"},
    )
    assert added.status_code == 201, added.text
    await decide_outcome(
        gateway,
        me,
        case["case_id"],
        "return_accepted",
        rationale=f"Zhyldyz chose to go home to Osh-{tag}",
        consent_to_referral=True,
        preferred_partner="fedasil",
    )
    await referral_in_inbox(gateway, partner("fedasil-e2e-erasure", "fedasil"), case["case_id"])
    return case


async def test_an_erased_person_is_found_in_clear_nowhere_and_the_receipt_names_every_store(
    gateway: Gateway, platform_under_test: PlatformUnderTest
) -> None:
    me = coach("coach-e2e-erasure", "brussels")
    tag = uuid.uuid4().hex[:8]
    target, needles = made_up_person(tag)
    other = household(name=f"Verhaegen{tag}")
    case = await journey_of(gateway, me, target, tag)
    await send_invitation(gateway, me, other, at=soon(180))
    other_case = await open_case_of(gateway, me, other)
    await letters_sent(gateway, me, case["case_id"])
    before = await found_in_clear(platform_under_test, needles)
    assert {"invitation.people", "referral.households", "notification.recipients"} <= {
        hit.split(":")[0] for hit in before
    }, "the scan must see the person in the read models before the erasure"
    export = await gateway.get(DPO, f"/api/subjects/{target.adult_id}")
    assert {s for s, held in export["services"].items() if "Zhyldyz" in json.dumps(held)} >= SERVICES
    letter = await gateway.call(DPO, "GET", f"/api/subjects/{target.adult_id}", params={"format": "pdf"})
    assert letter.headers["content-type"] == "application/pdf", letter.text
    assert letter.content.startswith(b"%PDF")
    statistics = [await gateway.get(OPERATIONS, f"/api/stats/{s}") for s in ("funnel", "outcomes")]

    order = {"person_id": target.adult_id, "legal_basis": "purpose_ended"}
    ordered = await gateway.post(DPO, "/api/erasures", order)
    receipt = await eventually(
        lambda: completed(gateway, str(ordered["id"])), timeout=60, what="every service's purge report"
    )

    assert receipt["keys_destroyed"] >= 2 and receipt["person_ids"] == [target.adult_id]
    assert {s["service"] for s in receipt["stores"]} >= SERVICES
    assert {"data_keys", "dead_letters", "idempotency_keys"} <= {s["store"] for s in receipt["stores"]}
    announced = [r["value"] for r in await records_of(platform_under_test, "icam.privacy.events")]
    erased = [e for e in announced if e["event_type"] == "PersonalDataErased"]
    assert erased and all(EventEnvelope.model_validate(e) for e in announced)  # public contracts hold
    leaks = await found_in_clear(platform_under_test, needles)
    assert not leaks, "still in clear after the erasure:\n  " + "\n  ".join(leaks[:20])
    after = [await gateway.get(OPERATIONS, f"/api/stats/{s}") for s in ("funnel", "outcomes")]
    assert after == statistics  # aggregates survive the erasure
    again = await gateway.call(DPO, "POST", "/api/erasures", json=order)
    assert again.status_code == 409 and again.json()["erasure_id"] == str(ordered["id"])
    view = await gateway.get(me, f"/api/views/cases/{other_case['case_id']}")
    assert [m["family_name"] for m in view["case"]["members"]] == [f"Verhaegen{tag}"]


async def test_erasure_orders_are_the_dpos_alone_and_bad_ones_are_named(gateway: Gateway) -> None:
    order = {"person_id": "OE-never-met", "legal_basis": "purpose_ended"}
    refused = await gateway.call(coach("coach-e2e-erasure-2"), "POST", "/api/erasures", json=order)
    assert refused.status_code == 403
    unknown = await gateway.call(DPO, "POST", "/api/erasures", json=order)
    assert unknown.status_code == 404 and unknown.json()["field"] == "person_id"
    baseless = await gateway.call(DPO, "POST", "/api/erasures", json={"person_id": "OE-never-met"})
    assert baseless.status_code == 422 and "legal_basis" in baseless.text


async def test_a_subscriber_without_a_grant_reads_every_field_but_the_personal_ones(
    gateway: Gateway, platform_under_test: PlatformUnderTest
) -> None:
    me = coach("coach-e2e-subscriber", "brussels")
    tag = uuid.uuid4().hex[:8]
    home, needles = made_up_person(tag)
    sent = await send_invitation(gateway, me, home, at=soon(120))

    async def published() -> dict[str, Any] | None:  # the relay publishes after the 201
        records = await records_of(platform_under_test, "icam.invitation.events")
        return next((r["value"] for r in records if r["value"].get("stream_id") == sent["stream_id"]), None)

    event = await eventually(published, timeout=30, what="the InvitationSent on the topic")
    data = event["data"]
    assert [(m["person_id"], m["is_minor"]) for m in data["members"]] == [(home.adult_id, False)]
    assert (data["household_id"], data["region"], data["language"]) == (home.household_id, "brussels", "fr")
    assert event["event_type"] == "InvitationSent" and data["appointment_at"]  # the rest stays readable
    assert not any(n in json.dumps(event, ensure_ascii=False) for n in needles)
    key_ids = sorted({m["sealed"].split(":")[2] for m in data["members"]})

    refused = await gateway.call(
        STRANGER, "POST", "/api/keys/release", json={"key_ids": key_ids}, purpose="t"
    )
    assert refused.status_code == 403
    granted = await gateway.call(
        REGISTRY, "POST", "/api/keys/release", json={"key_ids": key_ids}, purpose="t"
    )
    assert granted.status_code == 200 and all(k["secret"] for k in granted.json()["keys"])
    secrets = {k["key_id"]: base64.b64decode(k["secret"]) for k in granted.json()["keys"]}
    assert opened(data["members"][0]["sealed"], secrets)["given_name"] == "Zhyldyz Зульфия"  # the guide's way
    log = await gateway.get(AUDITOR, "/api/keys/access", caller=STRANGER.subject)
    assert [(r["operation"], r["granted"], r["keys"]) for r in log[:1]] == [("release", False, len(key_ids))]
    log = await gateway.get(AUDITOR, "/api/keys/access", caller=REGISTRY.subject)
    assert [(r["operation"], r["granted"], r["keys"]) for r in log[:1]] == [("release", True, len(key_ids))]


def opened(value: str, secrets: dict[str, bytes]) -> Any:
    """As the subscriber's guide (contracts/README.md) opens a sealed value."""
    key_id, nonce, ciphertext = value.removeprefix("sealed:v1:").split(":")
    plain = AESGCM(secrets[key_id]).decrypt(_b64(nonce), _b64(ciphertext), uuid.UUID(key_id).bytes)
    return json.loads(plain)


def _b64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


async def letters_sent(gateway: Gateway, me: Principal, case_id: str) -> None:
    async def some() -> list | None:
        view = await gateway.get(me, f"/api/views/cases/{case_id}")
        return [n for n in view["notifications"]["items"] if n.get("status") == "sent"] or None

    await eventually(some, timeout=60, what="the household's letters and e-mails sent")


async def completed(gateway: Gateway, erasure_id: str) -> dict[str, Any] | None:
    try:
        receipt: dict[str, Any] = await gateway.get(DPO, f"/api/erasures/{erasure_id}")
    except GatewayError:
        return None
    return receipt if receipt["status"] == "complete" else None


async def found_in_clear(platform: PlatformUnderTest, needles: list[str]) -> list[str]:
    """Where any of the strings (or their lowercase Latin transliteration) is found."""
    forms = {n: {n.lower(), anyascii(n).lower()} for n in needles}
    found: list[str] = []

    def look(where: str, texts: Iterable[str]) -> None:
        for text in texts:
            plain = text.lower()
            for needle, variants in forms.items():
                if any(v in plain for v in variants):
                    found.append(f"{where}: {needle!r}")

    for service, url in platform.database_urls.items():
        for where, texts in await table_contents(service, url):
            look(where, texts)
    for record in await records_of(platform, None):
        look(f"topic {record['topic']}", [json.dumps(record, ensure_ascii=False, default=str)])
    for log in sorted(platform.logs.glob("*.log")):
        look(f"log {log.name}", [readable(log.read_text(errors="replace"))])
    return found


async def table_contents(service: str, url: str) -> list[tuple[str, list[str]]]:
    conn = await asyncpg.connect(url)
    try:
        tables = await conn.fetch(
            """select table_schema, table_name from information_schema.tables
               where table_type = 'BASE TABLE' and table_schema not in ('pg_catalog', 'information_schema')"""
        )
        out = []
        for t in tables:
            rows = await conn.fetch(f'select * from "{t["table_schema"]}"."{t["table_name"]}"')
            texts = [readable(v) for row in rows for v in row.values() if v is not None]
            out.append((f"{service}.{t['table_name']}", texts))
        return out
    finally:
        await conn.close()


def readable(value: Any) -> str:
    """A stored value as a person would read it: JSON unescaped, PDF streams inflated, and the
    lowercase transliteration stored by search indexes matched by the caller."""
    if isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
        inflated = [_inflate(m) for m in re.findall(rb"stream\r?\n(.*?)endstream", raw, re.S)]
        return raw.decode("utf-8", "replace") + "".join(inflated)
    text = value if isinstance(value, str) else str(value)
    if text[:1] in "{[":
        with contextlib.suppress(ValueError):
            text += json.dumps(json.loads(text), ensure_ascii=False)
    return text


def _inflate(stream: bytes) -> str:
    try:
        return zlib.decompress(stream).decode("latin-1")
    except zlib.error:
        return ""


async def records_of(platform: PlatformUnderTest, name: str | None) -> list[dict[str, Any]]:
    """Every record of the run's topics (or of one), from the beginning: topic, key, headers, value."""
    admin = AIOKafkaAdminClient(bootstrap_servers=platform.kafka_bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if t.startswith(platform.topic_prefix)]
        if name is not None:
            names = [platform.topic(name)]
        described = await admin.describe_topics(names)
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=platform.kafka_bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        return await _drain(consumer, ends)
    finally:
        await consumer.stop()


async def _drain(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    remaining = {tp for tp, end in ends.items() if end > 0}
    while remaining:
        batches = await consumer.getmany(*remaining, timeout_ms=2000)
        for tp, messages in batches.items():
            for m in messages:
                out.append(
                    {
                        "topic": tp.topic,
                        "key": (m.key or b"").decode("utf-8", "replace"),
                        "headers": [(k, v.decode("utf-8", "replace")) for k, v in m.headers],
                        "value": json.loads(m.value) if m.value else None,
                    }
                )
            if messages and messages[-1].offset + 1 >= ends[tp]:
                remaining.discard(tp)
    return out
