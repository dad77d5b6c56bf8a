"""Traces (OpenTelemetry), off unless an OTLP endpoint is given (ADR 0016).

    OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318   # or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT

`configure(service_name)` (called by `create_service_app`, the gateway's and the web's
`create_app`) does nothing without an endpoint: no tracer provider, no instrumentation, and every
helper below is a check of one module global. With one, it installs a tracer provider exporting
OTLP/HTTP in batches (the standard `OTEL_*` variables apply: `OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`, `OTEL_EXPORTER_OTLP_*`, `OTEL_BSP_*`), and instruments FastAPI (each
app given to `instrument_app`), httpx and asyncpg.

One trace goes through the outbox: an append stores the `traceparent` of its span with the outbox
rows (`appending`); the relay, later and in another task, publishes each record in a producer
span that is that span's child and puts the producer span's `traceparent` in the record's headers
(`producing`); a consumer runs the handler in a consumer span whose parent is the header's
(`continued`), so what a reaction appends continues the same trace into the next service. A
trace starts at an HTTP request (a server span) or at a timer firing (`started`); a query, a
client call or a send made outside any trace starts none (the relay's polling, a health probe).
`OTEL_TRACES_SAMPLER_ARG` is the share of those starts that is traced (default 1); a request that
arrives with a sampled `traceparent` is traced whatever the share.

No span holds personal data: attributes are kept from a list (ids, event types, topics, route
templates, SQL text without its parameters, status codes), URLs without their query string and
with the values of their path masked, exceptions by type only (`tracing_export.Redacting`, the
exporter every span goes through). `tracestate` and baggage are not carried: vendor text that a
client chooses is not ids.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import structlog
from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

if TYPE_CHECKING:
    from fastapi import FastAPI
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

log = structlog.get_logger(__name__)

TRACEPARENT = "traceparent"
# the requests whose spans would only be noise: probes and scrapes every few seconds
EXCLUDED_URLS = "/health/,/metrics"

_PROPAGATOR = TraceContextTextMapPropagator()
_OFF: contextlib.nullcontext[None] = contextlib.nullcontext()
_tracer: Tracer | None = None
_provider: TracerProvider | None = None


def enabled() -> bool:
    """Whether this process traces (`configure` found an endpoint, or a test gave an exporter)."""
    return _tracer is not None


def wanted(env: Mapping[str, str] = os.environ) -> bool:
    """An OTLP endpoint is given and the SDK is not disabled (`OTEL_SDK_DISABLED`,
    `OTEL_TRACES_EXPORTER=none`)."""
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    if env.get("OTEL_TRACES_EXPORTER", "").strip().lower() == "none":
        return False
    return bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))


def configure(
    service_name: str, *, exporter: SpanExporter | None = None, batch: bool = True
) -> TracerProvider | None:
    """Trace this process if an endpoint is given (or `exporter`, in tests); once per process,
    later calls return the provider already installed. Returns None when tracing stays off."""
    global _tracer, _provider
    if _provider is not None:
        return _provider
    if exporter is None and not wanted():
        return None
    # the SDK is imported only here: a process that does not trace never loads it
    from icam_kernel import tracing_export

    provider = tracing_export.provider(service_name, exporter, batch=batch)
    tracing_export.instrument_libraries(provider)
    _provider, _tracer = provider, provider.get_tracer("icam_kernel")
    log.info("tracing_on", service=service_name)
    return provider


def disable() -> None:
    """Stop tracing (tests): the libraries' instrumentation removed, the provider shut down."""
    global _tracer, _provider
    if _provider is None:
        return
    from icam_kernel import tracing_export

    tracing_export.uninstrument_libraries()
    _provider.shutdown()
    _provider, _tracer = None, None


def flush(timeout_millis: int = 5000) -> None:
    """Export what is still buffered (before a process stops, or a test reads its spans)."""
    if _provider is not None:
        _provider.force_flush(timeout_millis)


def instrument_app(app: FastAPI, *, also_excluded: Sequence[str] = ()) -> None:
    """A server span per request (named by the route's template, which is also its `http.route`);
    probes, scrapes and the paths matching `also_excluded` (regular expressions) are not traced."""
    if _provider is None:
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    excluded = ",".join([EXCLUDED_URLS, *also_excluded])
    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=_provider, excluded_urls=excluded, exclude_spans=["receive", "send"]
    )


def traceparent_of(span: Span) -> str | None:
    """The W3C `traceparent` naming `span` (None for an invalid one)."""
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def current_traceparent() -> str | None:
    """The `traceparent` of the span running now, to be kept with what it leaves for later work
    (an outbox row, a notification to send); None when tracing is off or no trace runs."""
    if _tracer is None:
        return None
    return traceparent_of(trace.get_current_span())


def context_of(traceparent: str | None) -> Context | None:
    """The context a stored or received `traceparent` names; None when there is none or it is
    malformed (the propagator validates it: a header is no reason to fail a record)."""
    if not traceparent:
        return None
    context = _PROPAGATOR.extract({TRACEPARENT: traceparent})
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def appending(topic: str, stream_id: str, event_types: Sequence[str]) -> AbstractContextManager[str | None]:
    """The span of an append, inside the trace running now; yields the `traceparent` to store
    with the outbox rows, or None (tracing off, or no trace runs: nothing is started)."""
    if _tracer is None or not trace.get_current_span().get_span_context().is_valid:
        return _OFF
    return _appending(_tracer, topic, stream_id, event_types)


@contextlib.contextmanager
def _appending(
    tracer: Tracer, topic: str, stream_id: str, event_types: Sequence[str]
) -> Iterator[str | None]:
    attributes = {
        "icam.topic": topic,
        "icam.stream_id": stream_id,
        "icam.event_types": sorted(set(event_types)),
        "icam.event_count": len(event_types),
    }
    with _current(tracer, f"append {topic}", None, SpanKind.INTERNAL, attributes) as span:
        yield traceparent_of(span)


def producing(topic: str, traceparent: str | None, attributes: Mapping[str, Any]) -> Span | None:
    """A producer span for one record, child of the append's span (its stored `traceparent`), not
    made current (the relay sends many records at once); end it once the broker answered. None
    when tracing is off or the row came without a trace."""
    if _tracer is None:
        return None
    parent = context_of(traceparent)
    if parent is None:
        return None
    return _tracer.start_span(
        f"send {topic}", context=parent, kind=SpanKind.PRODUCER, attributes=dict(attributes)
    )


def ended(span: Span, error: BaseException | None = None) -> None:
    """End `span`, marked failed by the error's type only (its text may quote a value)."""
    if error is not None:
        _failed(span, error)
    span.end()


def continued(
    traceparent: str | None,
    name: str,
    *,
    kind: SpanKind = SpanKind.INTERNAL,
    attributes: Mapping[str, Any] | None = None,
) -> AbstractContextManager[Span | None]:
    """A span continuing the trace a `traceparent` names (a record's header, a stored row), current
    in the block; yields None, starting nothing, when tracing is off or there is none."""
    if _tracer is None:
        return _OFF
    parent = context_of(traceparent)
    if parent is None:
        return _OFF
    return _current(_tracer, name, parent, kind, attributes)


def started(name: str, attributes: Mapping[str, Any] | None = None) -> AbstractContextManager[Span | None]:
    """The root span of a new trace (a timer firing), current in the block; None when off."""
    if _tracer is None:
        return _OFF
    return _current(_tracer, name, Context(), SpanKind.INTERNAL, attributes)


@contextlib.contextmanager
def _current(
    tracer: Tracer, name: str, parent: Context | None, kind: SpanKind, attributes: Mapping[str, Any] | None
) -> Iterator[Span]:
    with tracer.start_as_current_span(
        name,
        context=parent,
        kind=kind,
        attributes=dict(attributes or {}),
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        try:
            yield span
        except BaseException as error:
            _failed(span, error)
            raise


def _failed(span: Span, error: BaseException) -> None:
    span.set_attribute("error.type", type(error).__name__)
    span.set_status(trace.StatusCode.ERROR)


def trace_ids(_: Any, __: str, event_dict: Any) -> Any:
    """structlog processor: the running span's trace and span ids on each line, when tracing is on
    (a log line and its trace found from one another)."""
    if _tracer is not None:
        ctx = trace.get_current_span().get_span_context()
        if ctx.is_valid:
            event_dict.setdefault("trace_id", f"{ctx.trace_id:032x}")
            event_dict.setdefault("span_id", f"{ctx.span_id:016x}")
    return event_dict
