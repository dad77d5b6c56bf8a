"""The topic map: which events travel where, keyed how, kept how long, read by whom.

Choices, for every topic:

* **Key** — the aggregate id of the event (``Event.key_field``). Kafka orders messages per
  partition, so every subscriber sees the events of one aggregate (one invitation, one case, one
  referral, one notification) in the order they were committed. There is no ordering between
  aggregates, nor between topics.
* **Partitions** — 6 by default: enough consumer-group members for each service to scale out,
  few enough for a small cluster. Changing the count changes key→partition mapping, so it is a
  migration, not a setting.
* **Retention** — events are the record of what happened and what the person was told: they are
  kept (``retention.ms=-1``, ``cleanup.policy=delete``). Compaction would keep only the last event
  per aggregate, which is wrong for an event log. Erasure happens by destroying the per-person key
  of ``PersonalData`` (crypto-shredding), not by deleting messages.
* **Delivery** — at least once. Subscribers deduplicate on ``event_id``.
* **Dead letters** — a subscriber that cannot handle a message (it does not parse, or the handler
  keeps failing) publishes the original bytes and headers to ``<topic>.dlq`` with the ``dlq_*``
  headers of ``envelope.py`` and moves on. DLQ topics keep messages 30 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

INVITATION_EVENTS: Final = "icam.invitation.events"
CASE_EVENTS: Final = "icam.case.events"
REFERRAL_EVENTS: Final = "icam.referral.events"
NOTIFICATION_EVENTS: Final = "icam.notification.events"
PRIVACY_EVENTS: Final = "icam.privacy.events"

DEFAULT_PARTITIONS: Final = 6
DEFAULT_REPLICATION_FACTOR: Final = 3
KEEP_FOREVER_MS: Final = -1
DLQ_RETENTION_MS: Final = 30 * 24 * 60 * 60 * 1000
DLQ_SUFFIX: Final = ".dlq"


def dlq_topic(topic: str) -> str:
    """Name of the dead-letter topic for messages of ``topic`` that a subscriber could not handle."""
    return f"{topic}{DLQ_SUFFIX}"


def consumer_group(service: str) -> str:
    """Consumer-group id a service uses for all its subscriptions (e.g. ``icam-case``)."""
    return f"icam-{service}"


@dataclass(frozen=True)
class Topic:
    """One Kafka topic of the platform and its contract."""

    name: str
    publisher: str
    subscribers: tuple[str, ...]
    description: str
    key: str = "the aggregate id of the event (see each event's key field)"
    partitions: int = DEFAULT_PARTITIONS
    replication_factor: int = DEFAULT_REPLICATION_FACTOR
    retention_ms: int = KEEP_FOREVER_MS
    cleanup_policy: str = "delete"
    ordering: str = "per key: the events of one aggregate arrive in commit order"
    config: dict[str, str] = field(default_factory=dict)

    @property
    def dlq(self) -> str:
        """The dead-letter topic of this topic."""
        return dlq_topic(self.name)

    def kafka_config(self) -> dict[str, str]:
        """Topic-level configuration to create the topic with."""
        return {
            "cleanup.policy": self.cleanup_policy,
            "retention.ms": str(self.retention_ms),
            "min.insync.replicas": "2",
            **self.config,
        }


TOPICS: Final[tuple[Topic, ...]] = (
    Topic(
        name=INVITATION_EVENTS,
        publisher="invitation",
        subscribers=("case", "notification", "privacy"),
        description=("Invitations to an ICAM interview, requests for an appointment and walk-in visits."),
    ),
    Topic(
        name=CASE_EVENTS,
        publisher="case",
        subscribers=("invitation", "referral", "notification", "privacy"),
        description=(
            "The ICAM trajectory of a person or household: opening, coaching, interviews, "
            "outcomes, suspensions and closure."
        ),
    ),
    Topic(
        name=REFERRAL_EVENTS,
        publisher="referral",
        subscribers=("case", "notification", "privacy"),
        description="Referrals to a return partner and what became of them.",
    ),
    Topic(
        name=NOTIFICATION_EVENTS,
        publisher="notification",
        subscribers=("case", "privacy"),
        description="Messages sent to persons and partners, in which language, on which channel.",
    ),
    Topic(
        name=PRIVACY_EVENTS,
        publisher="privacy",
        subscribers=("invitation", "case", "referral", "notification"),
        description=(
            "Erasures of personal data (the person's keys are destroyed: purge what you keep in "
            "clear) and retention holds. No personal data: references only."
        ),
    ),
)

TOPICS_BY_NAME: Final[dict[str, Topic]] = {topic.name: topic for topic in TOPICS}
SERVICES: Final[tuple[str, ...]] = ("invitation", "case", "referral", "notification", "privacy")


def topic(name: str) -> Topic:
    """The topic called ``name``; ``KeyError`` when the platform has no such topic."""
    return TOPICS_BY_NAME[name]


def subscriptions(service: str) -> tuple[Topic, ...]:
    """The topics ``service`` consumes."""
    return tuple(t for t in TOPICS if service in t.subscribers)


def publications(service: str) -> tuple[Topic, ...]:
    """The topics ``service`` publishes on."""
    return tuple(t for t in TOPICS if t.publisher == service)
