"""Render the Grafana dashboards of the platform into deploy/observability/grafana/*.json.

Each dashboard is a list of rows, each row a list of panels, each panel a title, a unit and its
PromQL queries: the JSON (Grafana schema 39, Prometheus datasource chosen by a variable) is
generated from that, and a test checks that the committed files equal a fresh rendering
(`python deploy/observability/render.py --check`), that every query parses, and that every metric
it names exists in a running service's /metrics or is listed as pending with its issue.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

OUT = Path(__file__).with_name("grafana")
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
LAG = "max by (consumer, topic, partition) (icam_consumer_lag)"


@dataclass(frozen=True)
class Panel:
    title: str
    unit: str
    queries: tuple[tuple[str, str], ...]  # (PromQL, legend)
    description: str = ""
    stacked: bool = False


PLATFORM = {
    "Traffic": [
        Panel(
            "Commands accepted /s",
            "reqps",
            (
                (
                    "sum by (service, command) (rate(icam_commands_total[$__rate_interval]))",
                    "{{service}} {{command}}",
                ),
            ),
            "Commands the services accepted (pending: command counter of the kernel's execute, issue 12).",
        ),
        Panel(
            "Events appended /s",
            "ops",
            (("sum by (topic) (rate(icam_event_append_seconds_count[$__rate_interval]))", "{{topic}}"),),
            "Appends by commands and by reactions, per topic of the appending service.",
            stacked=True,
        ),
        Panel(
            "Append latency p99",
            "s",
            (
                (
                    "histogram_quantile(0.99, sum by (topic, le) "
                    "(rate(icam_event_append_seconds_bucket[$__rate_interval])))",
                    "{{topic}}",
                ),
            ),
        ),
    ],
    "Propagation": [
        Panel(
            "Oldest unpublished event",
            "s",
            (("max by (topic) (icam_outbox_oldest_age_seconds)", "{{topic}}"),),
            "From append to the broker's acknowledgement: the first half of propagation.",
        ),
        Panel(
            "Handler latency p99",
            "s",
            (
                (
                    "histogram_quantile(0.99, sum by (consumer, le) "
                    '(rate(icam_handler_seconds_bucket{outcome="handled"}[$__rate_interval])))',
                    "{{consumer}}",
                ),
            ),
            "The second half: one event's transaction in a consumer.",
        ),
        Panel(
            "Consumer lag per group",
            "short",
            ((f"sum by (consumer) ({LAG})", "{{consumer}}"),),
            "Records still to handle, summed over the group's partitions.",
        ),
    ],
    "Outbox": [
        Panel(
            "Outbox backlog",
            "short",
            (("sum by (topic) (icam_outbox_backlog)", "{{topic}}"),),
            "Events written but not yet acknowledged by Kafka.",
        ),
        Panel(
            "Published /s",
            "ops",
            (("sum by (topic) (rate(icam_outbox_published_total[$__rate_interval]))", "{{topic}}"),),
            stacked=True,
        ),
        Panel(
            "Relays leading",
            "short",
            (("sum by (topic) (icam_outbox_relay_leader)", "{{topic}}"),),
            "Exactly one replica per topic should hold the lead.",
        ),
    ],
    "Failures": [
        Panel(
            "Dead letters (last hour)",
            "short",
            (("sum by (consumer) (increase(icam_dead_letters_total[1h]))", "{{consumer}}"),),
            "Events a consumer gave up on: `icam-dead-letters list`.",
        ),
        Panel(
            "Handled /s by outcome",
            "ops",
            (
                (
                    "sum by (outcome) (rate(icam_handler_seconds_count[$__rate_interval]))",
                    "{{outcome}}",
                ),
            ),
            "handled, duplicate (redelivery skipped by the inbox), error (retried), dead_lettered.",
            stacked=True,
        ),
    ],
    "Timers and workers": [
        Panel(
            "Timers fired /s",
            "ops",
            (("sum by (kind) (rate(icam_timers_fired_total[$__rate_interval]))", "{{kind}}"),),
        ),
        Panel(
            "Timer backlog",
            "s",
            (
                (
                    "max by (service, kind) (icam_timers_overdue_seconds)",
                    "{{service}} {{kind}} oldest overdue",
                ),
                ("sum by (service, kind) (icam_timers_overdue)", "{{service}} {{kind}} overdue"),
            ),
            "Timers past due and not fired (TimerWorker's overdue report, every 5 s).",
        ),
        Panel(
            "Worker restarts (last hour)",
            "short",
            (
                (
                    "sum by (service, worker) (increase(icam_worker_restarts_total[1h]))",
                    "{{service}} {{worker}}",
                ),
                (
                    'sum by (service) (changes(process_start_time_seconds{job="icam"}[1h]))',
                    "{{service}} process",
                ),
            ),
            "Supervised background workers (restarted with backoff) and whole processes.",
        ),
        Panel(
            "Resident memory",
            "bytes",
            (('sum by (service) (process_resident_memory_bytes{job="icam"})', "{{service}}"),),
        ),
    ],
}

DELIVERIES = "icam_notification_deliveries_total"
NOTIFICATIONS = {
    "Delivery": [
        Panel(
            "Deliveries /s by channel and outcome",
            "ops",
            (
                (
                    f"sum by (channel, outcome) (rate({DELIVERIES}[$__rate_interval]))",
                    "{{channel}} {{outcome}}",
                ),
            ),
            "sent, retry (transient failure), failed (final).",
            stacked=True,
        ),
        Panel(
            "Failure ratio by channel",
            "percentunit",
            (
                (
                    f'sum by (channel) (rate({DELIVERIES}{{outcome!="sent"}}[$__rate_interval])) / '
                    f"sum by (channel) (rate({DELIVERIES}[$__rate_interval]))",
                    "{{channel}}",
                ),
            ),
        ),
    ],
    "What the service hears and says": [
        Panel(
            "Triggers handled /s",
            "ops",
            (
                (
                    'sum by (consumer) (rate(icam_handler_seconds_count{consumer=~"icam-notification.*",'
                    ' outcome="handled"}[$__rate_interval]))',
                    "{{consumer}}",
                ),
            ),
        ),
        Panel(
            "NotificationSent / NotificationFailed published /s",
            "ops",
            (
                (
                    'sum(rate(icam_outbox_published_total{topic=~".*icam.notification.events"}[$__rate_interval]))',
                    "published",
                ),
            ),
        ),
        Panel(
            "Lag of the notification consumers",
            "short",
            (
                (
                    "sum by (consumer) (max by (consumer, topic, partition) "
                    '(icam_consumer_lag{consumer=~"icam-notification.*"}))',
                    "{{consumer}}",
                ),
            ),
        ),
    ],
}

DASHBOARDS = {
    "icam-platform": ("ICAM platform", PLATFORM),
    "icam-notifications": ("ICAM notification delivery", NOTIFICATIONS),
}


def panel(p: Panel, panel_id: int, x: int, y: int) -> dict[str, Any]:
    custom = {"stacking": {"mode": "normal" if p.stacked else "none"}, "fillOpacity": 10}
    return {
        "id": panel_id,
        "type": "timeseries",
        "title": p.title,
        "description": p.description,
        "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": 8, "x": x, "y": y},
        "fieldConfig": {"defaults": {"unit": p.unit, "custom": custom}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}},
        "targets": [
            {"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
            for i, (expr, legend) in enumerate(p.queries)
        ],
    }


def row(title: str, panel_id: int, y: int) -> dict[str, Any]:
    return {
        "id": panel_id,
        "type": "row",
        "title": title,
        "collapsed": False,
        "gridPos": {"h": 1, "w": 24, "x": 0, "y": y},
    }


def panels(rows: dict[str, list[Panel]]) -> list[dict[str, Any]]:
    """Rows one under the other, three panels of a third of the width per line."""
    out: list[dict[str, Any]] = []
    y = 0
    for title, row_panels in rows.items():
        out.append(row(title, len(out) + 1, y))
        y += 1
        for i, p in enumerate(row_panels):
            out.append(panel(p, len(out) + 1, x=(i % 3) * 8, y=y + (i // 3) * 8))
        y += ((len(row_panels) + 2) // 3) * 8
    return out


def dashboard(uid: str, title: str, rows: dict[str, list[Panel]]) -> dict[str, Any]:
    variable = {"name": "datasource", "type": "datasource", "query": "prometheus", "label": "Prometheus"}
    return {
        "uid": uid,
        "title": title,
        "tags": ["icam"],
        "schemaVersion": 39,
        "version": 1,
        "editable": True,
        "timezone": "Europe/Brussels",
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [variable]},
        "annotations": {"list": []},
        "panels": panels(rows),
    }


def render() -> dict[str, str]:
    """File name → JSON text of every dashboard."""
    return {
        f"{uid}.json": json.dumps(dashboard(uid, title, rows), indent=2, ensure_ascii=False) + "\n"
        for uid, (title, rows) in DASHBOARDS.items()
    }


if __name__ == "__main__":
    rendered = render()
    if "--check" in sys.argv:
        stale = [name for name, text in rendered.items() if (OUT / name).read_text() != text]
        sys.exit(f"stale: {', '.join(stale)}: run deploy/observability/render.py" if stale else 0)
    for name, text in rendered.items():
        (OUT / name).write_text(text)
        print(f"wrote {OUT / name}")
