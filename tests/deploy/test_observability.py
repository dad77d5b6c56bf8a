"""The dashboards and alert rules load, parse, and watch metrics the services really export.

What `promtool check rules` would do, with promql-parser (the Rust PromQL parser of GreptimeDB):
the rule file has the documented structure, every expression and duration parses, every alert is
labelled and explained with labels its expression keeps. Then every metric a rule or a panel names
is looked up in the /metrics of a notification service started in-process on the test servers.
Metrics that the issue asks for but no code exports yet are PENDING, each with the issue that adds
it; a pending metric that appears in /metrics fails the test, so the list only shrinks.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import re
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import promql_parser as promql
import pytest
import yaml
from aiokafka import AIOKafkaProducer
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from icam_contracts import Actor, EventEnvelope
from icam_contracts.events import InvitationSent
from icam_contracts.jsonschema_export import example_payload

OBSERVABILITY = Path(__file__).resolve().parents[2] / "deploy" / "observability"
RULES = yaml.safe_load((OBSERVABILITY / "prometheus" / "icam-alerts.yaml").read_text())

PENDING: dict[str, str] = {}  # every metric the rules and dashboards use is exported (issue 18)
SYNTHESIZED = {"up"}  # added by Prometheus at scrape time
SCRAPE_LABELS = {"job", "instance", "service", "pod"}  # added by the scrape job (scrape-config.yaml)
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h"}

# The rule-file format of the Prometheus documentation ("Defining recording rules", "Alerting rules").
DURATION = {"type": "string", "pattern": "^([0-9]+(ms|s|m|h|d|w|y))+$"}
NAMED_STRINGS = {"type": "object", "propertyNames": {"pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"}}
RULE_FILE_SCHEMA = {
    "type": "object",
    "required": ["groups"],
    "additionalProperties": False,
    "properties": {
        "groups": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["name", "rules"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "interval": DURATION,
                    "query_offset": DURATION,
                    "limit": {"type": "integer", "minimum": 0},
                    "labels": NAMED_STRINGS,
                    "rules": {
                        "type": "array",
                        "minItems": 1,
                        "items": {
                            "type": "object",
                            "required": ["expr"],
                            "oneOf": [{"required": ["alert"]}, {"required": ["record"]}],
                            "additionalProperties": False,
                            "properties": {
                                "alert": {"type": "string", "pattern": "^[a-zA-Z_][a-zA-Z0-9_]*$"},
                                "record": {"type": "string", "pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$"},
                                "expr": {"type": "string", "minLength": 1},
                                "for": DURATION,
                                "keep_firing_for": DURATION,
                                "labels": NAMED_STRINGS,
                                "annotations": NAMED_STRINGS,
                            },
                        },
                    },
                },
            },
        }
    },
}


def alerts() -> list[dict[str, Any]]:
    return [rule for group in RULES["groups"] for rule in group["rules"] if "alert" in rule]


def _render_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("icam_dashboards_render", OBSERVABILITY / "render.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


render = _render_module()
DASHBOARDS = {name: json.loads(text) for name, text in render.render().items()}


def panel_queries() -> Iterator[tuple[str, str]]:
    for name, board in DASHBOARDS.items():
        for panel in board["panels"]:
            for target in panel.get("targets", []):
                yield f"{name}: {panel['title']}", target["expr"]


def parse(expr: str) -> promql.Expr:
    for variable, value in GRAFANA_VARIABLES.items():
        expr = expr.replace(variable, value)
    return promql.parse(expr)


def selectors(expr: str) -> list[tuple[str, set[str]]]:
    """(metric name, label names matched) of every vector selector in `expr`."""
    found: list[tuple[str, set[str]]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql.VectorSelector):
            found.append((node.name, {m.name for m in node.matchers.matchers}))

    promql.walk(parse(expr), visit)
    return found


def grouping_labels(expr: str) -> list[tuple[set[str], set[str]]]:
    """(labels of a `by` clause, metrics beneath it) for every aggregation in `expr`."""
    found: list[tuple[set[str], set[str]]] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql.AggregateExpr) and node.modifier is not None:
            beneath = {name for name, _ in selectors(str(node.expr))}
            found.append((set(node.modifier.labels), beneath))

    promql.walk(parse(expr), visit)
    return found


def every_query() -> list[tuple[str, str]]:
    return [(rule["alert"], rule["expr"]) for rule in alerts()] + list(panel_queries())


# --- the files themselves ------------------------------------------------------------------------


@pytest.mark.unit
def test_the_rule_file_has_the_structure_prometheus_loads() -> None:
    jsonschema.validate(RULES, RULE_FILE_SCHEMA)
    groups = [g["name"] for g in RULES["groups"]]
    names = [rule["alert"] for rule in alerts()]
    assert len(set(groups)) == len(groups) and len(set(names)) == len(names)


@pytest.mark.unit
def test_the_rule_file_check_refuses_an_unknown_key() -> None:
    broken = {"groups": [{"name": "g", "rules": [{"alert": "A", "expr": "up", "fore": "5m"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, RULE_FILE_SCHEMA)


@pytest.mark.unit
@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_every_alert_parses_and_is_labelled_and_explained(rule: dict[str, Any]) -> None:
    parse(rule["expr"])
    if "for" in rule:
        promql.parse_duration(rule["for"])
    assert rule["labels"]["severity"] in {"warning", "critical"}
    assert rule["annotations"]["summary"] and rule["annotations"]["description"]


@pytest.mark.unit
@pytest.mark.parametrize("rule", alerts(), ids=lambda rule: rule["alert"])
def test_annotations_name_only_labels_the_expression_keeps(rule: dict[str, Any]) -> None:
    used = set(re.findall(r"\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)", " ".join(rule["annotations"].values())))
    outer = parse(rule["expr"])
    while isinstance(outer, promql.BinaryExpr):  # a comparison or `and` keeps its left side's labels
        outer = outer.lhs
    if isinstance(outer, promql.AggregateExpr) and outer.modifier is not None:
        assert used <= set(outer.modifier.labels), rule["alert"]


@pytest.mark.unit
def test_the_committed_dashboards_are_a_fresh_rendering() -> None:
    for name, text in render.render().items():
        assert (OBSERVABILITY / "grafana" / name).read_text() == text, name


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(DASHBOARDS))
def test_every_dashboard_has_the_structure_grafana_imports(name: str) -> None:
    board = DASHBOARDS[name]
    assert {"uid", "title", "schemaVersion", "panels", "templating"} <= set(board)
    assert board["templating"]["list"][0] == {
        "name": "datasource",
        "type": "datasource",
        "query": "prometheus",
        "label": "Prometheus",
    }
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24 and grid["h"] > 0
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
            refs = [t["refId"] for t in panel["targets"]]
            assert refs and len(refs) == len(set(refs))
    assert len({b["uid"] for b in DASHBOARDS.values()}) == len(DASHBOARDS)


@pytest.mark.unit
@pytest.mark.parametrize("where, expr", list(panel_queries()))
def test_every_panel_query_parses(where: str, expr: str) -> None:
    parse(expr)


@pytest.mark.unit
def test_the_dashboards_cover_what_operators_asked_for() -> None:
    titles = {p["title"] for board in DASHBOARDS.values() for p in board["panels"]}
    asked = {
        "Commands accepted /s",
        "Oldest unpublished event",
        "Consumer lag per group",
        "Outbox backlog",
        "Dead letters (last hour)",
        "Timer backlog",
        "Worker restarts (last hour)",
        "Deliveries /s by channel and outcome",
    }
    assert asked <= titles


@pytest.mark.unit
def test_the_rules_select_the_scrape_job_that_the_scrape_config_defines() -> None:
    for config in ("scrape-config.yaml", "prometheus-local.yaml"):
        loaded = yaml.safe_load((OBSERVABILITY / "prometheus" / config).read_text())
        assert [job["job_name"] for job in loaded["scrape_configs"]] == ["icam"]
        assert loaded["rule_files"] == ["icam-alerts.yaml"]
    jobs = {m.group(1) for _, expr in every_query() for m in re.finditer(r'job="([^"]+)"', expr)}
    assert jobs == {"icam"}


# --- against a running service -------------------------------------------------------------------


async def _publish(bootstrap: str, topic: str) -> None:
    """A malformed record (dead-lettered at once) and an invitation (handled, then letter and e-mail)."""
    now = datetime.now(UTC)
    data = example_payload(InvitationSent) | {
        "invitation_id": str(uuid.uuid4()),
        "appointment_at": (now + timedelta(days=7)).isoformat(),
    }
    invited = InvitationSent.model_validate(data)
    envelope = EventEnvelope.wrap(
        invited,
        event_id=uuid.uuid4(),
        stream_version=1,
        occurred_at=now,
        recorded_at=now,
        actor=Actor(id="coach-4711", role="coach"),
        correlation_id=str(invited.household_id),
        causation_id=str(uuid.uuid4()),
    )
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, b"{not json", key=b"poison", headers=[("event_type", b"InvitationSent")]
        )
        await producer.send_and_wait(
            topic, envelope.kafka_value(), key=envelope.kafka_key(), headers=envelope.kafka_headers()
        )
    finally:
        await producer.stop()


EXERCISED = ('icam_dead_letters_total{consumer="obs', 'outcome="handled"', "icam_outbox_published_total{")


async def exported_metrics(kafka_bootstrap: str, database_url: str) -> dict[str, set[str]]:
    """Sample name → label names, from the /metrics of a notification service that handled a poison
    record and an invitation (so consumer, dead-letter, outbox and relay metrics all have samples)."""
    from icam_kernel.service import ServiceSettings
    from icam_notification.app import create_app
    from icam_notification.config import Settings, SmsSettings, SmtpSettings, Topics
    from icam_platform import topics
    from icam_platform.infra.process import free_port

    prefix = f"obs{uuid.uuid4().hex[:8]}."
    await topics.ensure_topics(kafka_bootstrap, replication_factor=1, partitions=1, prefix=prefix)
    settings = Settings(
        service=ServiceSettings("notification", database_url, kafka_bootstrap),
        topics=Topics.prefixed(prefix),
        smtp=SmtpSettings(port=free_port(), timeout=1),  # nobody listens: e-mails fail and are retried
        sms=SmsSettings(url=f"http://127.0.0.1:{free_port()}/messages", timeout=1),
        consumer_prefix=f"{prefix}icam-notification",
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        await _publish(kafka_bootstrap, settings.topics.invitation)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app), base_url="http://notification"
        ) as client:
            for _ in range(300):
                text = (await client.get("/metrics")).text
                if all(sample in text for sample in EXERCISED):
                    return _sample_labels(text)
                await asyncio.sleep(0.1)
    raise AssertionError(f"no {EXERCISED} in /metrics after 30 s")


def _sample_labels(text: str) -> dict[str, set[str]]:
    """Every sample name the exposition has or, for a family without samples yet, would have (with the
    label names the running process defined it with)."""
    found: dict[str, set[str]] = {}
    suffixes = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}
    for family in text_string_to_metric_families(text):
        defined = set(getattr(REGISTRY._names_to_collectors.get(family.name), "_labelnames", ()))
        for suffix in suffixes.get(family.type, ("",)):
            bucket = {"le"} if suffix == "_bucket" else set()
            found.setdefault(family.name + suffix, set()).update(defined | bucket)
        for sample in family.samples:
            found.setdefault(sample.name, set()).update(sample.labels)
    return found


@pytest.mark.integration
async def test_every_metric_of_the_rules_and_dashboards_is_exported_by_a_running_service_or_pending(
    kafka_bootstrap: str, database_url: str
) -> None:
    exported = await exported_metrics(kafka_bootstrap, database_url)

    assert not set(PENDING) & set(exported), "exported now: remove from PENDING"
    for where, expr in every_query():
        for metric, matched in selectors(expr):
            if metric in PENDING or metric in SYNTHESIZED:
                continue
            assert metric in exported, f"{where}: {metric} is not in /metrics"
            assert matched <= exported[metric] | SCRAPE_LABELS, f"{where}: {metric} has no {matched}"
        for by, beneath in grouping_labels(expr):
            if beneath & set(PENDING):
                continue
            known = set().union(*(exported.get(m, set()) for m in beneath)) | SCRAPE_LABELS
            assert by <= known, f"{where}: groups by {by - known}, which {beneath} do not carry"
