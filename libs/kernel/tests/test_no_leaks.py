"""Personal data never leaves through the logs or a dead letter's texts (issue 15, item 6).

A made-up person — names in Latin, Arabic and Cyrillic scripts, an e-mail address, a phone —
goes through the kernel's log processors and a poison event; none of their strings comes out.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
import structlog
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from pydantic import ValidationError

from icam_contracts.events import InvitationSent
from icam_contracts.jsonschema_export import example_payload
from icam_contracts.personal_data import PersonalData
from icam_kernel import inbox, sealing
from icam_kernel.dead_letters import list_dead_letters
from icam_kernel.events import RecordedEvent
from icam_kernel.inbox import Delivery, IdempotentConsumer, Outcome, RetryPolicy
from icam_kernel.observability import WithoutQuery, access_path, configure_logging
from icam_kernel.redaction import audit_query, describe_error, personal_keys, redact, scrub
from icam_kernel.sealing import SEALED_PREFIX
from icam_kernel.store import EventStore, ExpectedVersion
from icam_kernel.testing import new_event, read_topic

GIVEN, FAMILY, ARABIC, CYRILLIC = "Xochiquetzal", "Brzęczyszczykiewicz", "الزمردية", "Всеволодовна"
EMAIL, PHONE = "xochiquetzal.b@example.org", "+32 470 99 88 77"
PERSON = {
    "person_id": "OE-leak-1",
    "given_name": f"{GIVEN} {ARABIC}",
    "family_name": f"{FAMILY} {CYRILLIC}",
    "contact": {"email": EMAIL, "phone": PHONE},
}
SECRETS = (GIVEN, FAMILY, ARABIC, CYRILLIC, EMAIL, PHONE, "470 99 88 77")


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The service's logging as it runs in production (JSON), what it prints captured; the inbox's
    logger taken afresh so that it uses this configuration."""
    monkeypatch.setenv("LOG_FORMAT", "json")
    configure_logging(force=True)
    monkeypatch.setattr(inbox, "log", structlog.get_logger("icam_kernel.inbox"))
    capsys.readouterr()
    yield lambda: capsys.readouterr().out


@pytest.mark.unit
def test_the_personal_keys_come_from_the_contracts_personal_data_and_free_texts() -> None:
    keys = personal_keys()

    from_the_brief = {"given_name", "family_name", "birth_date", "nationality", "email", "phone"}
    more = {"street", "house_number", "postal_address", "contact", "notes", "rationale", "communicated"}
    assert from_the_brief | more | {"details", "members", "person", "member", "q"} <= keys
    assert not {"household_id", "event_type", "region", "partner", "coach_id", "office", "topic"} & keys


@pytest.mark.unit
def test_personal_keys_are_masked_at_any_depth_and_strings_scrubbed() -> None:
    line = {"event": f"sent to {EMAIL}", "household": {"members": [PERSON]}, "note": f"call {PHONE}"}

    masked = redact(line)

    assert masked == {
        "event": "sent to [email]",
        "household": {"members": "[redacted]"},
        "note": "call [phone]",
    }


@pytest.mark.unit
def test_a_structlog_line_carries_no_personal_data(json_logs: Callable[[], str]) -> None:
    log = structlog.get_logger("leak-check")

    log.info("invitation_sent", members=[PERSON], notes=f"{GIVEN} said", text=f"reach {EMAIL} / {PHONE}")
    try:
        raise ValueError(f"no letter for {EMAIL} at {PHONE}")
    except ValueError:
        log.exception("letter_failed")

    out = json_logs()
    assert leaked(out) == [], out
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["event"] for line in lines] == ["invitation_sent", "letter_failed"]
    assert "ValueError: no letter for [email] at [phone]" in lines[1]["exception"]


@pytest.mark.unit
def test_standard_library_records_and_their_tracebacks_go_through_the_same_redaction(
    json_logs: Callable[[], str],
) -> None:
    try:
        PersonalData.model_validate({**PERSON, "birth_date": f"{GIVEN} {EMAIL}"})
    except ValidationError:
        logging.getLogger("aiokafka").exception("consumer failed for %s", EMAIL)

    out = json_logs()
    assert leaked(out) == [], out
    [line] = [json.loads(line) for line in out.splitlines()]
    assert (line["logger"], line["level"]) == ("aiokafka", "error")
    assert "input_value=[redacted]" in line["exception"]


@pytest.mark.unit
def test_an_access_line_names_the_path_without_its_query() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/caseload?q={GIVEN}&person_id=OE-leak-1", "1.1", 200),
        None,
    )

    WithoutQuery().filter(record)

    assert record.getMessage() == '127.0.0.1:5000 - "GET /caseload HTTP/1.1" 200'


@pytest.mark.unit
def test_an_access_line_masks_a_path_segment_that_is_no_word_of_the_platforms_paths() -> None:
    case_id = "5b0c3f0e-8a51-4c1f-9a59-3f0f0c3b2a10"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5000", "GET", f"/api/cases/{case_id}/documents/{GIVEN}?x={EMAIL}", "1.1", 404),
        None,
    )

    WithoutQuery().filter(record)

    assert record.getMessage() == (
        f'127.0.0.1:5000 - "GET /api/cases/{case_id}/documents/[redacted] HTTP/1.1" 404'
    )
    assert access_path("/subject-data/OE-leak-1") == "/subject-data/[redacted]"
    assert access_path("/health/ready") == "/health/ready"
    assert scrub(f'HTTP Request: GET http://127.0.0.1:8102/cases/{GIVEN}?q={GIVEN} "HTTP/1.1 422"') == (
        'HTTP Request: GET http://127.0.0.1:8102/cases/[redacted]?[query] "HTTP/1.1 422"'
    )


@pytest.mark.unit
def test_an_audited_query_keeps_its_filters_and_masks_a_name_search() -> None:
    query = f"q={GIVEN}+{ARABIC}&status=open&coach=coach-1&note={EMAIL}&limit=5"

    assert audit_query(query) == "q=[redacted]&status=open&coach=coach-1&note=[email]&limit=5"
    assert audit_query("") == ""


@pytest.mark.unit
def test_errors_are_described_without_their_input() -> None:
    try:
        PersonalData.model_validate({**PERSON, "birth_date": f"{GIVEN} {EMAIL}", "nationality": FAMILY})
    except ValidationError as error:
        validation = describe_error(error)
    try:
        json.loads(f'{{"given_name": "{GIVEN}", "email": "{EMAIL}" ')
    except json.JSONDecodeError as error:
        malformed = describe_error(error)

    assert validation.splitlines()[1:] == [
        "birth_date: Input should be a valid date or datetime, invalid character in year",
        "nationality: String should match pattern '^[A-Z]{2}$'",
    ]
    assert malformed == "JSONDecodeError: Expecting ',' delimiter at line 1, column 70"
    assert describe_error(KeyError("event_id")) == "KeyError: 'event_id'"
    assert describe_error(LookupError(f"no household of '{GIVEN}' ({EMAIL})")) == (
        "LookupError: no household of '[redacted]' ([email])"
    )


async def validate_the_person(_: asyncpg.Connection, event: RecordedEvent) -> None:
    """A handler of a real contract: the person's data must validate."""
    PersonalData.model_validate(event.data["person"])


@pytest.mark.integration
async def test_a_poison_event_holding_a_name_and_an_email_leaves_neither_in_the_dead_letter_texts(
    db: asyncpg.Pool,
    kafka_bootstrap: str,
    kafka_topic: Callable[..., Awaitable[str]],
    json_logs: Callable[[], str],
) -> None:
    topic = await kafka_topic("invitations", partitions=1)
    poison = {**PERSON, "birth_date": f"{GIVEN} {FAMILY} {EMAIL}"}
    async with db.acquire() as conn:
        await EventStore("source").append(conn, "inv-leak", [new_event(person=poison)], ExpectedVersion.ANY)
        [event] = await EventStore("source").read_stream(conn, "inv-leak")
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    await producer.send_and_wait(topic, event.to_json(), key=b"inv-leak", headers=event.headers())
    await producer.stop()
    consumer = IdempotentConsumer(db, "leak-check", validate_the_person, retry=RetryPolicy(2, 0.01, 0.01))

    broker = KafkaBroker(kafka_bootstrap)
    consumer.subscribe(broker, topic)
    async with broker:
        await broker.start()
        [dead] = await read_topic(kafka_bootstrap, f"{topic}.dlq", 1)
    async with db.acquire() as conn:
        [letter] = await list_dead_letters(conn, "leak-check")

    logs = json_logs()
    headers = {name: value.decode() for name, value in dead["headers"].items()}
    assert headers["dlq_error"] == headers["error_message"] == letter["error_message"]
    assert letter["error_message"].splitlines()[1] == (
        "birth_date: Input should be a valid date or datetime, invalid character in year"
    )
    assert leaked(letter["error_message"]) == []
    assert leaked(json.dumps(headers, ensure_ascii=False)) == []
    assert "handler_failed" in logs and "event_dead_lettered" in logs
    assert leaked(logs) == []
    assert GIVEN in letter["value"]  # the record itself is kept for replay


@pytest.mark.integration
async def test_a_malformed_message_is_dead_lettered_without_an_excerpt_of_it(db: asyncpg.Pool) -> None:
    consumer = IdempotentConsumer(db, "leak-check", validate_the_person)
    document = f'{{"given_name": "{GIVEN}", "contact": {{"email": "{EMAIL}"'.encode()

    outcome = await consumer.process(Delivery("t", 0, 3, None, document))

    async with db.acquire() as conn:
        [letter] = await list_dead_letters(conn, "leak-check")
    assert outcome is Outcome.DEAD_LETTERED
    assert letter["error_message"].startswith("JSONDecodeError: ")  # where, never what
    assert leaked(letter["error_message"]) == []


async def validate_the_members(_: asyncpg.Connection, event: RecordedEvent) -> None:
    """A handler that sees the opened event (the consumer's vault) and refuses its first member."""
    PersonalData.model_validate(event.data["members"][0])


@pytest.mark.integration
async def test_a_sealed_poison_event_stays_sealed_in_its_dead_letter_and_its_texts_name_no_one(
    db: asyncpg.Pool, json_logs: Callable[[], str]
) -> None:
    vault = sealing.installed()  # the session's (icam_testing): the store seals with it
    assert vault is not None
    data = example_payload(InvitationSent)
    data["members"][0] |= {**PERSON, "birth_date": f"{GIVEN} {EMAIL}"}
    async with db.acquire() as conn:
        await EventStore("source").append(
            conn, "inv-sealed", [new_event("InvitationSent", **data)], ExpectedVersion.ANY
        )
        [opened] = await EventStore("source").read_stream(conn, "inv-sealed")
    event = replace(opened, data=opened.stored_payload[1])  # as the relay publishes it
    assert leaked(event.to_json().decode()) == []
    consumer = IdempotentConsumer(
        db, "leak-sealed", validate_the_members, retry=RetryPolicy(1, 0.01, 0.01), vault=vault
    )

    outcome = await consumer.process(Delivery("t", 0, 9, b"inv-sealed", event.to_json(), event.headers()))

    async with db.acquire() as conn:
        [letter] = await list_dead_letters(conn, "leak-sealed")
    assert outcome is Outcome.DEAD_LETTERED
    assert letter["error_message"].splitlines()[1].startswith("birth_date: Input should be a valid date")
    assert leaked(letter["value"]) == [] and SEALED_PREFIX in letter["value"]  # kept sealed, for replay
    assert leaked(letter["error_message"]) == [] and leaked(json.dumps(letter["headers"])) == []
    assert leaked(json_logs()) == []
