"""Logging and metrics, configured once per process.

structlog writes JSON when stdout is not a terminal (or LOG_FORMAT=json), with the correlation id
of the command or event being handled bound through contextvars. Metrics live in the default
Prometheus registry, labelled by service where a process could hold several.

No line carries personal data: `redact_personal_data` masks the personal keys at any depth and the
e-mail addresses and phone numbers in every string (exception texts and tracebacks included), for
structlog's own lines and for the standard library's (aiokafka, uvicorn), which go through the same
processors. uvicorn's access lines, when they are on, name the path without its query string (a
name search, a person's reference). Metric labels are codes (topic, consumer, outcome), never
values of a request or an event. With tracing on (`icam_kernel.tracing`), a line written inside a
span names its `trace_id` and `span_id`.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import structlog
from prometheus_client import Counter, Gauge, Histogram
from structlog.typing import EventDict, Processor

from icam_kernel.redaction import MASK, access_path, is_personal, redact, scrub_error_text
from icam_kernel.tracing import trace_ids

_FAST_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)

APPEND_SECONDS = Histogram(
    "icam_event_append_seconds", "Time to append events to a stream", ["topic"], buckets=_FAST_BUCKETS
)
OUTBOX_BACKLOG = Gauge("icam_outbox_backlog", "Events written but not yet acknowledged by Kafka", ["topic"])
OUTBOX_OLDEST_AGE = Gauge("icam_outbox_oldest_age_seconds", "Age of the oldest unpublished event", ["topic"])
OUTBOX_PUBLISHED = Counter("icam_outbox_published_total", "Events acknowledged by Kafka", ["topic"])
RELAY_LEADER = Gauge("icam_outbox_relay_leader", "1 while this process's relay holds the lead", ["topic"])
CONSUMER_LAG = Gauge(
    "icam_consumer_lag",
    "Records behind the partition end after the one just handled (high watermark - offset - 1)",
    ["consumer", "topic", "partition"],
)
HANDLER_SECONDS = Histogram(
    "icam_handler_seconds", "Time to handle one event", ["consumer", "outcome"], buckets=_FAST_BUCKETS
)
DEAD_LETTERS = Counter("icam_dead_letters_total", "Events sent to a dead-letter topic", ["consumer"])
TIMERS_FIRED = Counter("icam_timers_fired_total", "Durable timers fired", ["kind"])
WORKER_RESTARTS = Counter(
    "icam_worker_restarts_total",
    "Restarts of a supervised background worker (relay, timers, projections, consumers, dispatcher)",
    ["worker"],
)
TIMERS_OVERDUE = Gauge("icam_timers_overdue", "Durable timers due and not yet fired", ["kind"])
TIMERS_OVERDUE_SECONDS = Gauge(
    "icam_timers_overdue_seconds", "How long the most overdue unfired timer has been due", ["kind"]
)
OUTBOX_REFUSED = Counter(
    "icam_outbox_refused_total",
    "Events the broker refused for good (too large), moved aside from the outbox",
    ["topic"],
)
PARKED_EVENTS = Counter(
    "icam_parked_events_total",
    "Events held back behind a dead letter of the same stream (sequencing policy)",
    ["consumer"],
)
COMMANDS = Counter(
    "icam_commands_total",
    "Commands run on the kernel's path, by outcome (accepted, replayed, refused, failed)",
    ["service", "command", "outcome"],
)

_configured = False
# keys holding an exception's message: their quoted literals are masked too (usually the input)
ERROR_KEYS = frozenset({"error", "error_message"})
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def redact_personal_data(_: Any, __: str, event_dict: EventDict) -> EventDict:
    """structlog processor: personal keys masked anywhere in the line, e-mail addresses and phone
    numbers masked inside every string (the message, an error, a rendered traceback)."""
    return {key: _redacted(key, value) for key, value in event_dict.items()}


def _redacted(key: str, value: Any) -> Any:
    if key.startswith("_"):  # structlog's own bookkeeping (the standard library's record)
        return value
    if value is not None and is_personal(key):
        return MASK
    if key in ERROR_KEYS and isinstance(value, str):
        return scrub_error_text(value)
    return redact(value)


class WithoutQuery(logging.Filter):
    """uvicorn's access line with the path only, its values masked (`access_path`): a query string
    or a path segment may hold a name or a reference."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], access_path(args[2]), *args[3:])
        return True


class _Stdout:
    """sys.stdout as it is when a line is written, so that a logger cached earlier writes where
    the process (or a test capturing it) writes now."""

    def write(self, text: str) -> int:
        return sys.stdout.write(text)

    def flush(self) -> None:
        sys.stdout.flush()


STDOUT = _Stdout()


def processors(renderer: Processor) -> list[Processor]:
    """structlog's chain: context, level, time, the exception rendered, then redacted, rendered."""
    return [
        structlog.contextvars.merge_contextvars,
        trace_ids,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.StackInfoRenderer(),
        structlog.processors.format_exc_info,
        redact_personal_data,
        renderer,
    ]


def standard_library_handler(renderer: Processor) -> logging.Handler:
    """A handler rendering the standard library's records through the same redaction."""
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            structlog.contextvars.merge_contextvars,
            trace_ids,
            structlog.processors.add_log_level,
            structlog.stdlib.add_logger_name,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
        ],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            redact_personal_data,
            renderer,
        ],
    )
    handler = logging.StreamHandler(STDOUT)  # type: ignore[arg-type]
    handler.set_name("icam")
    handler.setFormatter(formatter)
    return handler


def configure_logging(level: str | None = None, *, force: bool = False) -> None:
    """Configure structlog and stdlib logging once; later calls are no-ops unless `force`."""
    global _configured
    if _configured and not force:
        return
    json_output = os.environ.get("LOG_FORMAT") == "json" or not sys.stdout.isatty()
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    log_level = getattr(logging, (level or os.environ.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    structlog.configure(
        processors=processors(renderer),
        wrapper_class=structlog.make_filtering_bound_logger(log_level),
        logger_factory=structlog.PrintLoggerFactory(STDOUT),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    _route_standard_library(standard_library_handler(renderer), log_level)
    _configured = True


def _route_standard_library(handler: logging.Handler, level: int) -> None:
    """The root logger and uvicorn's (which do not propagate) write through `handler`; uvicorn's
    access log, when it is on, without query strings."""
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if h.get_name() != "icam"] + [handler]
    root.setLevel(level)
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers:  # an access log that is off has none: it stays off
            logger.handlers = [handler]
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, WithoutQuery) for f in access.filters):
        access.addFilter(WithoutQuery())


@contextmanager
def bound_context(**values: Any) -> Iterator[None]:
    """Bind key-values (correlation_id, causation_id, event_id…) to every log line in the block."""
    tokens = structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
