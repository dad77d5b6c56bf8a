"""Logging and metrics, configured once per process.

structlog writes JSON when stdout is not a terminal (or LOG_FORMAT=json), with the correlation id
of the command or event being handled bound through contextvars. Metrics live in the default
Prometheus registry, labelled by service where a process could hold several.
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


def configure_logging(level: str | None = None, *, force: bool = False) -> None:
    """Configure structlog and stdlib logging once; later calls are no-ops unless `force`."""
    global _configured
    if _configured and not force:
        return
    json_output = os.environ.get("LOG_FORMAT") == "json" or not sys.stdout.isatty()
    renderer: Any = structlog.processors.JSONRenderer() if json_output else structlog.dev.ConsoleRenderer()
    log_level = getattr(logging, (level or os.environ.get("LOG_LEVEL", "INFO")).upper(), logging.INFO)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(log_level),
        cache_logger_on_first_use=True,
    )
    logging.basicConfig(level=log_level, format="%(message)s", stream=sys.stdout)
    _configured = True


@contextmanager
def bound_context(**values: Any) -> Iterator[None]:
    """Bind key-values (correlation_id, causation_id, event_id…) to every log line in the block."""
    tokens = structlog.contextvars.bind_contextvars(**{k: v for k, v in values.items() if v is not None})
    try:
        yield
    finally:
        structlog.contextvars.reset_contextvars(**tokens)
