"""Traces through the outbox (ADR 0016): off without an endpoint; on, one trace from the request
that appends, through the relay's record, to the consumer and what it appends; no personal data."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest
from fastapi import FastAPI, HTTPException
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import Decision
from opentelemetry.trace import SpanKind
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from icam_kernel import tracing
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.inbox import Delivery, IdempotentConsumer, Outcome
from icam_kernel.observability import processors
from icam_kernel.outbox import OutboxRelay
from icam_kernel.store import EventStore, ExpectedVersion
from icam_kernel.testing import new_event, read_topic
from icam_kernel.timers import Timer, TimerWorker, schedule
from icam_kernel.tracing_export import TraceStarts, redacted

TopicFactory = Callable[..., Awaitable[str]]
NAME, BIRTH = "Xochiquetzal", "1990-04-12"
UPSTREAM = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
STANDARD_HEADERS = {
    "event_type",
    "event_version",
    "event_id",
    "correlation_id",
    "causation_id",
    "content-type",
}


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> Iterator[InMemorySpanExporter]:
    """Tracing on for one test, every span kept in memory as it would be exported (redacted)."""
    for name in ("OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER_ARG"):
        monkeypatch.delenv(name, raising=False)
    exporter = InMemorySpanExporter()
    tracing.configure("kernel-test", exporter=exporter, batch=False)
    try:
        yield exporter
    finally:
        tracing.disable()


def provider() -> TracerProvider:
    made = tracing.configure("kernel-test")
    assert made is not None
    return made


def named(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [s for s in exporter.get_finished_spans() if s.name == name]
    assert len(found) == 1, [s.name for s in exporter.get_finished_spans()]
    return found[0]


def parent_id(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def ids(traceparent: str) -> tuple[int, int]:
    _, trace_id, span_id, _ = traceparent.split("-")
    return int(trace_id, 16), int(span_id, 16)


async def outbox_traceparents(db: asyncpg.Pool, topic: str) -> list[str | None]:
    rows = await db.fetch("select traceparent from outbox where topic = $1 order by position", topic)
    return [r["traceparent"] for r in rows]


async def relay_all(db: asyncpg.Pool, topic: str, bootstrap: str) -> None:
    task = asyncio.create_task(OutboxRelay(db, topic, bootstrap=bootstrap, max_interval=0.01).run())
    try:
        async with asyncio.timeout(20):
            while await db.fetchval("select count(*) from outbox where topic = $1", topic):
                await asyncio.sleep(0.05)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


@pytest.mark.unit
def test_tracing_is_wanted_only_with_an_endpoint() -> None:
    assert not tracing.wanted({})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"})
    assert tracing.wanted({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"})
    given = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}
    assert not tracing.wanted({**given, "OTEL_SDK_DISABLED": "true"})
    assert not tracing.wanted({**given, "OTEL_TRACES_EXPORTER": "none"})


@pytest.mark.integration
async def test_without_an_endpoint_there_is_no_provider_and_no_record_carries_a_traceparent(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: TopicFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    assert tracing.configure("kernel-test") is None
    assert not tracing.enabled()
    assert isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)  # none was installed
    assert not hasattr(asyncpg.connection.Connection.fetch, "__wrapped__")  # asyncpg as it is
    topic = await kafka_topic("events")
    async with db.acquire() as conn:
        await EventStore(topic).append(conn, "inv-1", [new_event()], ExpectedVersion.NO_STREAM)
    assert await outbox_traceparents(db, topic) == [None]

    await relay_all(db, topic, kafka_bootstrap)

    [record] = await read_topic(kafka_bootstrap, topic, 1)
    assert set(record["headers"]) == STANDARD_HEADERS


@pytest.mark.integration
async def test_the_relay_publishes_a_record_in_the_trace_of_the_request_that_appended_it(
    db: asyncpg.Pool, kafka_bootstrap: str, kafka_topic: TopicFactory, spans: InMemorySpanExporter
) -> None:
    topic = await kafka_topic("events")
    tracer = provider().get_tracer("test")
    with tracer.start_as_current_span("POST /invitations", kind=SpanKind.SERVER) as request:
        async with db.acquire() as conn:
            await EventStore(topic).append(conn, "inv-1", [new_event()], ExpectedVersion.NO_STREAM)
    append = named(spans, f"append {topic}")
    [stored] = await outbox_traceparents(db, topic)
    assert stored == tracing.traceparent_of(trace.NonRecordingSpan(append.context))

    await relay_all(db, topic, kafka_bootstrap)

    [record] = await read_topic(kafka_bootstrap, topic, 1)
    send = named(spans, f"send {topic}")
    assert set(record["headers"]) == {*STANDARD_HEADERS, "traceparent"}
    assert ids(record["headers"]["traceparent"].decode()) == (send.context.trace_id, send.context.span_id)
    assert send.kind is SpanKind.PRODUCER and parent_id(send) == append.context.span_id
    assert parent_id(append) == request.get_span_context().span_id
    assert {s.context.trace_id for s in spans.get_finished_spans()} == {request.get_span_context().trace_id}
    assert send.attributes is not None and send.attributes["icam.event_type"] == "InvitationSent"


def delivery_of(event: RecordedEvent, topic: str, traceparent: str | None) -> Delivery:
    headers = [(k, v) for k, v in event.headers()]
    if traceparent:
        headers.append(("traceparent", traceparent.encode()))
    return Delivery(topic, 0, 7, event.stream_id.encode(), event.to_json(), headers)


async def recorded(db: asyncpg.Pool, topic: str) -> RecordedEvent:
    async with db.acquire() as conn:
        await EventStore(topic).append(conn, f"inv-{uuid.uuid4()}", [new_event()], ExpectedVersion.ANY)
        [event] = await EventStore(topic).read_all(conn, 0, 1)
    await db.execute("delete from outbox")
    return event


@pytest.mark.integration
async def test_a_consumer_handles_a_record_in_a_child_of_its_header_and_what_it_appends_continues(
    db: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    event = await recorded(db, "icam.invitation.events")
    seen: list[str | None] = []

    async def open_case(conn: Connection, got: RecordedEvent) -> None:
        seen.append(tracing.current_traceparent())
        await EventStore("icam.case.events").append(
            conn, "case-1", [new_event("CaseOpened")], ExpectedVersion.ANY
        )

    consumer = IdempotentConsumer(db, "case-from-invitations", open_case)
    upstream = UPSTREAM

    outcome = await consumer.process(delivery_of(event, "icam.invitation.events", upstream))

    assert outcome is Outcome.HANDLED
    handled = named(spans, "process icam.invitation.events")
    append = named(spans, "append icam.case.events")
    assert handled.kind is SpanKind.CONSUMER
    assert (handled.context.trace_id, parent_id(handled)) == ids(upstream)
    assert seen == [tracing.traceparent_of(trace.NonRecordingSpan(handled.context))]
    assert parent_id(append) == handled.context.span_id
    [stored] = await outbox_traceparents(db, "icam.case.events")
    assert stored is not None and ids(stored) == (handled.context.trace_id, append.context.span_id)
    assert handled.attributes is not None
    assert handled.attributes["icam.outcome"] == "handled"
    assert handled.attributes["messaging.consumer.group.name"] == "case-from-invitations"


@pytest.mark.integration
async def test_a_record_without_a_traceparent_starts_no_trace(
    db: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    event = await recorded(db, "icam.invitation.events")

    async def open_case(conn: Connection, got: RecordedEvent) -> None:
        await EventStore("icam.case.events").append(
            conn, "case-1", [new_event("CaseOpened")], ExpectedVersion.ANY
        )

    consumer = IdempotentConsumer(db, "case-from-invitations", open_case)
    assert await consumer.process(delivery_of(event, "icam.invitation.events", None)) is Outcome.HANDLED

    assert spans.get_finished_spans() == ()
    assert await outbox_traceparents(db, "icam.case.events") == [None]


@pytest.mark.integration
async def test_a_timer_fires_in_a_trace_of_its_own_which_its_events_carry(
    db: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    async def no_show(conn: Connection, timer: Timer) -> None:
        await EventStore("icam.invitation.events").append(
            conn, str(timer.payload["invitation_id"]), [new_event("NoShowRecorded")], ExpectedVersion.ANY
        )

    async with db.acquire() as conn:
        await schedule(conn, "no_show", datetime.now(UTC), {"invitation_id": "inv-9"})
    assert await TimerWorker(db, {"no_show": no_show}).fire_one()

    fired = named(spans, "timer no_show")
    append = named(spans, "append icam.invitation.events")
    assert fired.parent is None and parent_id(append) == fired.context.span_id
    [stored] = await outbox_traceparents(db, "icam.invitation.events")
    assert stored is not None and ids(stored)[0] == fired.context.trace_id


@pytest.mark.integration
async def test_a_query_outside_any_trace_starts_none(db: asyncpg.Pool, spans: InMemorySpanExporter) -> None:
    assert hasattr(asyncpg.connection.Connection.fetchval, "__wrapped__")  # instrumented
    await db.fetchval("select 1")  # the relay's polling, a probe's check

    assert spans.get_finished_spans() == ()
    with provider().get_tracer("test").start_as_current_span("GET /cases", kind=SpanKind.SERVER):
        await db.fetchval("select 1")
    [request] = [s for s in spans.get_finished_spans() if s.name == "GET /cases"]
    assert "select" in {s.name for s in spans.get_finished_spans()}  # and the pool's reset on release
    assert {s.context.trace_id for s in spans.get_finished_spans()} == {request.context.trace_id}


@pytest.mark.unit
def test_a_trace_starts_at_a_request_or_a_timer_and_follows_a_sampled_parent_whatever_the_share() -> None:
    everything, nothing = TraceStarts(1.0), TraceStarts(0.0)
    start = everything.should_sample
    assert start(None, 1, "GET /cases", SpanKind.SERVER).decision is Decision.RECORD_AND_SAMPLE
    assert start(None, 1, "timer no_show", SpanKind.INTERNAL).decision is Decision.RECORD_AND_SAMPLE
    for kind in (SpanKind.CLIENT, SpanKind.PRODUCER, SpanKind.CONSUMER):
        assert start(None, 1, "select", kind).decision is Decision.DROP
    assert nothing.should_sample(None, 1, "GET /cases", SpanKind.SERVER).decision is Decision.DROP
    sampled = tracing.context_of("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
    unsampled = tracing.context_of("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00")
    assert nothing.should_sample(sampled, 1, "select", SpanKind.CLIENT).decision is Decision.RECORD_AND_SAMPLE
    assert everything.should_sample(unsampled, 1, "GET", SpanKind.SERVER).decision is Decision.DROP
    assert tracing.context_of("not-a-traceparent") is None and tracing.context_of(None) is None
    carried = TraceContextTextMapPropagator().extract({"traceparent": UPSTREAM, "tracestate": "vendor=x"})
    assert everything.should_sample(carried, 1, "GET", SpanKind.SERVER).trace_state is None  # not kept


def app_naming_a_person(db: asyncpg.Pool) -> FastAPI:
    """Routes of the platform's words, each given a name and a birth date in a way of its own."""
    app = FastAPI()

    @app.get("/cases/{case_id}")
    async def case(case_id: str, q: str) -> dict[str, str]:
        await db.fetchval("select $1::text || $2::text", q, BIRTH)  # parameters: never in a span
        return {"found": case_id}

    @app.post("/duplicates/check")
    async def check(body: dict[str, str]) -> dict[str, str]:
        raise HTTPException(422, f"{body['given_name']} born {body['birth_date']} is already known")

    @app.get("/caseload")
    async def caseload(q: str) -> None:
        raise RuntimeError(f"no household for '{q}' born {BIRTH}")

    tracing.instrument_app(app)
    return app


def everything_said(span: ReadableSpan) -> str:
    """Whatever a span says that could hold a value: name, attributes, events, status, links."""
    return json.dumps(
        {
            "name": span.name,
            "attributes": dict(span.attributes or {}),
            "events": [(e.name, dict(e.attributes or {})) for e in span.events],
            "status": span.status.description,
            "links": [dict(link.attributes or {}) for link in span.links],
        },
        default=str,
    )


@pytest.mark.integration
async def test_no_span_holds_a_name_or_birth_date_in_a_path_query_body_header_sql_or_error(
    db: asyncpg.Pool, spans: InMemorySpanExporter
) -> None:
    raw = InMemorySpanExporter()  # what the libraries made, before the redaction
    provider().add_span_processor(SimpleSpanProcessor(raw))
    app = app_naming_a_person(db)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"user-agent": f"{NAME}'s phone", "x-purpose": f"help {NAME}"}
    async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
        assert (await client.get(f"/cases/{NAME}", params={"q": f"{NAME} {BIRTH}"})).status_code == 200
        body = {"given_name": NAME, "birth_date": BIRTH}
        assert (await client.post("/duplicates/check", json=body)).status_code == 422
        assert (await client.get("/caseload", params={"q": NAME})).status_code == 500

    finished = spans.get_finished_spans()
    assert {s.name for s in finished} >= {
        "GET /cases/{case_id}",
        "POST /duplicates/check",
        "GET /caseload",
        "select",
    }
    said = [everything_said(s) for s in finished]
    assert [text for text in said if NAME.lower() in text.lower() or BIRTH in text] == []
    assert any(NAME in everything_said(s) for s in raw.get_finished_spans())  # there was some to mask
    server = next(s for s in finished if s.name == "GET /cases/{case_id}")
    assert server.attributes is not None and server.attributes["http.route"] == "/cases/{case_id}"
    assert server.attributes["http.target"] == "/cases/[redacted]"
    failed = next(s for s in finished if s.name == "GET /caseload")
    assert [dict(e.attributes or {}).get("exception.type") for e in failed.events] == ["RuntimeError"]
    assert all(set(e.attributes or {}) <= {"exception.type", "exception.escaped"} for e in failed.events)


@pytest.mark.unit
def test_a_span_leaves_with_its_listed_attributes_only_urls_without_query_and_path_values_masked() -> None:
    span = ReadableSpan(
        name=f"GET /cases/{NAME}",
        attributes={
            "http.url": f"http://case:8102/caseload?q={NAME}",
            "url.full": f"http://case:8102/cases/{NAME}?q={NAME}",
            "http.target": f"/caseload?q={NAME}",
            "url.path": f"/cases/{NAME}/timeline",
            "http.user_agent": NAME,
            "client.address": "203.0.113.9",
            "db.statement.parameters": f"('{NAME}', '{BIRTH}')",
            "db.statement": "select * from people where name = $1",
            "http.route": "/cases/{case_id}",
            "icam.stream_id": "2b7e1a9c-51d0-4c3e-9d8f-0a1b2c3d4e5f",
            "icam.note": f"reach me at {NAME.lower()}@example.org",
        },
    )

    out = redacted(span)

    assert out.name == "GET /cases/[redacted]"
    assert dict(out.attributes or {}) == {
        "http.url": "http://case:8102/caseload",
        "url.full": "http://case:8102/cases/[redacted]",
        "http.target": "/caseload",
        "url.path": "/cases/[redacted]/timeline",
        "db.statement": "select * from people where name = $1",
        "http.route": "/cases/{case_id}",
        "icam.stream_id": "2b7e1a9c-51d0-4c3e-9d8f-0a1b2c3d4e5f",
        "icam.note": "reach me at [email]",
    }


@pytest.mark.unit
def test_a_log_line_inside_a_span_names_its_trace(spans: InMemorySpanExporter) -> None:
    assert processors(lambda _, __, event: event)[1] is tracing.trace_ids
    assert tracing.trace_ids(None, "info", {}) == {}  # outside any span: nothing added
    with provider().get_tracer("test").start_as_current_span("GET /cases", kind=SpanKind.SERVER) as span:
        line = tracing.trace_ids(None, "info", {"event": "case_opened"})
    assert line["trace_id"] == f"{span.get_span_context().trace_id:032x}"
    assert line["span_id"] == f"{span.get_span_context().span_id:016x}"
