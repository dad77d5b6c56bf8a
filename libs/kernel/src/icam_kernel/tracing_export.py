"""The OpenTelemetry SDK side of `icam_kernel.tracing`, imported only by a process that traces.

`provider` builds the tracer provider: the kernel's sampler (`TraceStarts`) and every span
exported through `Redacting`, which keeps a span's attributes from a list and masks what could
name a person. It is the one place a span's content is decided, for the kernel's spans and the
libraries' alike (ADR 0016).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult, TraceIdRatioBased
from opentelemetry.trace import Link, SpanKind, Status
from opentelemetry.util.types import Attributes

from icam_kernel.redaction import MASK, path_words, scrub

# what a span may say: ids, codes, templates, numbers; every string among them is still scrubbed
KEPT = frozenset(
    {
        # HTTP, both generations of the conventions (the route as its template, never the target)
        "http.method", "http.request.method", "http.route", "http.status_code",
        "http.response.status_code", "http.scheme", "url.scheme", "http.flavor",
        "network.protocol.version", "net.host.port", "server.port", "server.address",
        "net.peer.name", "net.peer.port", "net.transport", "network.transport",
        # SQL as written (parameters are never captured), the database and its role
        "db.system", "db.system.name", "db.name", "db.namespace", "db.user", "db.statement",
        "db.query.text", "db.operation", "db.operation.name",
        # Kafka: topic, partition, offset, group, the record's key (a stream id) and event id
        "messaging.system", "messaging.destination.name", "messaging.destination.partition.id",
        "messaging.operation", "messaging.operation.type", "messaging.operation.name",
        "messaging.consumer.group.name", "messaging.kafka.message.key",
        "messaging.kafka.message.offset", "messaging.kafka.offset", "messaging.message.id",
        "messaging.batch.message_count",
        "error.type", "exception.type", "exception.escaped",
    }
)  # fmt: skip
KEPT_PREFIXES = ("icam.",)  # the kernel's own: topic, stream and event ids, types, outcomes
# a request's path and URL: kept with the query dropped and the values of the path masked
PATHS = frozenset({"url.path", "http.target"})
URLS = frozenset({"url.full", "http.url"})
_TEMPLATE = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*(?::path)?\}")
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def masked_path(target: str) -> str:
    """A path without its query, each segment that is no word of the platform's paths, no UUID and
    no route template's `{name}` masked."""
    path = target.split("?", 1)[0].split("#", 1)[0]
    return "/".join(
        seg if not seg or seg in path_words() or _UUID.fullmatch(seg) or _TEMPLATE.fullmatch(seg) else MASK
        for seg in path.split("/")
    )


def span_name(name: str) -> str:
    """A span's name with any path in it masked (a route's template is kept as it is)."""
    return " ".join(masked_path(word) if word.startswith("/") else scrub(word) for word in name.split(" "))


def attributes(values: Attributes) -> dict[str, Any]:
    """The attributes a span may keep (`KEPT`, `icam.*`, paths and URLs masked), strings scrubbed."""
    kept: dict[str, Any] = {}
    for key, value in (values or {}).items():
        if key in PATHS and isinstance(value, str):
            kept[key] = masked_path(value)
        elif key in URLS and isinstance(value, str):
            kept[key] = scrub(value.split("?", 1)[0])
        elif key in KEPT or key.startswith(KEPT_PREFIXES):
            kept[key] = _scrubbed(value)
    return kept


def _scrubbed(value: Any) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Sequence) and not isinstance(value, bytes):
        return [scrub(v) if isinstance(v, str) else v for v in value]
    return value


def redacted(span: ReadableSpan) -> ReadableSpan:
    """`span` as it may leave the process: attributes kept from the list, its name's path masked,
    exceptions by type only (a message or a stack trace may quote a value), no status text."""
    return ReadableSpan(
        name=span_name(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=attributes(span.attributes),
        events=[Event(scrub(e.name), attributes(e.attributes), e.timestamp) for e in span.events],
        links=[Link(link.context, attributes(link.attributes)) for link in span.links],
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class Redacting(SpanExporter):
    """Every span passes here on its way out (`redacted`), whatever made it."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([redacted(s) for s in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


class TraceStarts(Sampler):
    """A span with a parent follows its parent's decision; one without starts a trace only if it is
    a server span (an HTTP request) or the kernel's own (a timer firing), for `ratio` of the trace
    ids. A query, a client call, a send or a fetch outside any trace (the relay's polling, a probe)
    starts none. The parent's `tracestate` is not kept (vendor text a client may choose)."""

    def __init__(self, ratio: float = 1.0) -> None:
        self.ratio = TraceIdRatioBased(ratio)

    def should_sample(
        self,
        parent_context: Context | None,
        trace_id: int,
        name: str,
        kind: SpanKind | None = None,
        attributes: Attributes = None,
        links: Sequence[Link] | None = None,
        trace_state: Any = None,
    ) -> SamplingResult:
        parent = trace.get_current_span(parent_context).get_span_context()
        if parent.is_valid:
            sampled = parent.trace_flags.sampled
        elif kind in (SpanKind.SERVER, SpanKind.INTERNAL):
            decision = self.ratio.should_sample(parent_context, trace_id, name).decision
            sampled = decision is Decision.RECORD_AND_SAMPLE
        else:
            sampled = False
        if not sampled:
            return SamplingResult(Decision.DROP)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes)  # the span starts with them

    def get_description(self) -> str:
        return f"TraceStarts{{{self.ratio.get_description()}}}"


def ratio_from_env(env: Mapping[str, str] = os.environ) -> float:
    """`OTEL_TRACES_SAMPLER_ARG`: the share of requests and timers that start a trace (default 1)."""
    try:
        return min(max(float(env.get("OTEL_TRACES_SAMPLER_ARG", "1")), 0.0), 1.0)
    except ValueError:
        return 1.0


def provider(service_name: str, exporter: SpanExporter | None, *, batch: bool = True) -> TracerProvider:
    """The process's tracer provider: OTLP/HTTP unless `exporter` is given, through `Redacting`."""
    if exporter is None:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter = OTLPSpanExporter()  # endpoint, headers, timeout: the OTEL_EXPORTER_OTLP_* variables
    named = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": service_name}
    made = TracerProvider(resource=Resource.create(named), sampler=TraceStarts(ratio_from_env()))
    out = Redacting(exporter)
    made.add_span_processor(BatchSpanProcessor(out) if batch else SimpleSpanProcessor(out))
    return made


def instrument_libraries(tracer_provider: TracerProvider) -> None:
    """httpx (client spans, and the `traceparent` of each call) and asyncpg (a span per query, the
    SQL without its parameters); FastAPI is instrumented per app (`tracing.instrument_app`)."""
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument(tracer_provider=tracer_provider)
    AsyncPGInstrumentor(capture_parameters=False).instrument(tracer_provider=tracer_provider)  # type: ignore[no-untyped-call]


def uninstrument_libraries() -> None:
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().uninstrument()
    AsyncPGInstrumentor().uninstrument()  # type: ignore[no-untyped-call]
