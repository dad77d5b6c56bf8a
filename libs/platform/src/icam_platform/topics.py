"""Create the platform's topics (and their dead-letter topics) idempotently from the contracts' map.

Used by `icam up` locally (replication 1) and by the production topic-creation job
(`icam topics create --replication-factor 3`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from icam_contracts.topics import DLQ_RETENTION_MS, TOPICS, Topic


@dataclass(frozen=True)
class TopicPlan:
    name: str
    partitions: int
    config: dict[str, str]


def plan(replication_factor: int, partitions: int | None = None, prefix: str = "") -> list[TopicPlan]:
    """Every event topic and its `.dlq`, with the topic-level config the contracts prescribe.

    `prefix` (the services' `ICAM_TOPIC_PREFIX`) isolates a test run or an environment.
    """
    min_isr = str(min(2, replication_factor))
    plans = []
    for topic in TOPICS:
        config = topic.kafka_config() | {"min.insync.replicas": min_isr}
        count = partitions or topic.partitions
        plans.append(TopicPlan(prefix + topic.name, count, config))
        plans.append(TopicPlan(prefix + topic.dlq, count, _dlq_config(topic, min_isr)))
    return plans


def _dlq_config(topic: Topic, min_isr: str) -> dict[str, str]:
    return {"cleanup.policy": "delete", "retention.ms": str(DLQ_RETENTION_MS), "min.insync.replicas": min_isr}


async def ensure_topics(
    bootstrap: str, replication_factor: int = 1, partitions: int | None = None, prefix: str = ""
) -> dict[str, str]:
    """Create what is missing; report what exists (and a partition count that differs)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        wanted = plan(replication_factor, partitions, prefix)
        missing = [p for p in wanted if p.name not in existing]
        if missing:
            await admin.create_topics(
                [NewTopic(p.name, p.partitions, replication_factor, topic_configs=p.config) for p in missing]
            )
        report = {p.name: "created" for p in missing}
        present = [p for p in wanted if p.name in existing]
        if present:
            described = await admin.describe_topics([p.name for p in present])
            counts = {d["topic"]: len(d["partitions"]) for d in described}
            for p in present:
                have = counts.get(p.name)
                report[p.name] = "exists" if have == p.partitions else f"exists with {have} partitions"
        return report
    finally:
        await admin.close()


def create_command(args: argparse.Namespace) -> int:
    bootstrap = args.bootstrap or os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    prefix = os.environ.get("ICAM_TOPIC_PREFIX", "")
    report = asyncio.run(ensure_topics(bootstrap, args.replication_factor, args.partitions, prefix))
    for name, state in sorted(report.items()):
        print(f"{name:<32} {state}")
    return 0


def register_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    topics = commands.add_parser("topics", help="the platform's Kafka topics")
    sub = topics.add_subparsers(dest="topics_command", required=True)
    create = sub.add_parser("create", help="create missing topics and their dead-letter topics")
    create.add_argument("--bootstrap", help="default: $KAFKA_BOOTSTRAP_SERVERS or 127.0.0.1:9092")
    create.add_argument("--replication-factor", type=int, default=1)
    create.add_argument("--partitions", type=int, help="override the contracts' partition count")
    create.set_defaults(func=create_command)
