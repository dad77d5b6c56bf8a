"""Settings of the referral service, from the environment with defaults.

| variable | default | meaning |
|---|---|---|
| `DATABASE_URL`, `KAFKA_BOOTSTRAP_SERVERS`, `ICAM_SERVICE_NAME` | (kernel) | where the service runs |
| `ICAM_TOPIC_PREFIX` | "" | prefix of every topic name (tests use unique topics) |
| `REFERRAL_TOPIC` | prefix + `icam.referral.events` | topic the service publishes on |
| `REFERRAL_CASE_TOPIC` | prefix + `icam.case.events` | topic of the case events it follows |
| `REFERRAL_CONSUMER_GROUP` | `icam-referral` | consumer group (and inbox name) for case events |
| `REFERRAL_PARTNERS_FILE` | — | JSON list of partner profiles replacing the default catalogue |
| `REFERRAL_CLOSED_DAYS` | — | extra non-working days, comma-separated ISO dates |
| `REFERRAL_DUE_SOON_HOURS` | 24 | an unacknowledged referral is "due soon" this close to its deadline |
| `REFERRAL_SHARED_VULNERABILITIES` | return-relevant set | vulnerability categories a partner receives |
| `ICAM_REFERENCE_DATA` | — | reference data overrides (partners' codes and names) |
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from icam_contracts.enums import Language, VulnerabilityCategory
from icam_contracts.reference import load_reference_data
from icam_contracts.topics import CASE_EVENTS, REFERRAL_EVENTS, consumer_group
from icam_kernel.inbox import RetryPolicy
from icam_kernel.service import ServiceSettings
from icam_referral.domain import RETURN_RELEVANT_VULNERABILITIES
from icam_referral.domain.partners import PartnerCatalogue, PartnerProfile, PartnerRole, default_catalogue
from icam_referral.domain.working_days import WorkingCalendar

SERVICE = "referral"


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


@dataclass
class ReferralSettings:
    """Everything the referral service is configured with; tests build one directly."""

    service: ServiceSettings
    referral_topic: str = REFERRAL_EVENTS
    case_topic: str = CASE_EVENTS
    consumer_group: str = consumer_group(SERVICE)
    catalogue: PartnerCatalogue = field(
        default_factory=lambda: PartnerCatalogue(default_catalogue(load_reference_data()))
    )
    calendar: WorkingCalendar = field(default_factory=WorkingCalendar)
    due_soon: timedelta = timedelta(hours=24)
    shared_vulnerabilities: frozenset[VulnerabilityCategory] = RETURN_RELEVANT_VULNERABILITIES
    clock: Callable[[], datetime] = utc_now
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    @classmethod
    def from_env(cls) -> ReferralSettings:
        """Read the variables in this module's table."""
        prefix = os.environ.get("ICAM_TOPIC_PREFIX", "")
        closed = [
            date.fromisoformat(d.strip()) for d in os.environ.get("REFERRAL_CLOSED_DAYS", "").split(",") if d
        ]
        shared = os.environ.get("REFERRAL_SHARED_VULNERABILITIES")
        return cls(
            service=ServiceSettings.from_env(default_name=SERVICE),
            referral_topic=os.environ.get("REFERRAL_TOPIC", prefix + REFERRAL_EVENTS),
            case_topic=os.environ.get("REFERRAL_CASE_TOPIC", prefix + CASE_EVENTS),
            consumer_group=os.environ.get("REFERRAL_CONSUMER_GROUP", consumer_group(SERVICE)),
            catalogue=load_catalogue(os.environ.get("REFERRAL_PARTNERS_FILE")),
            calendar=WorkingCalendar(closed),
            due_soon=timedelta(hours=float(os.environ.get("REFERRAL_DUE_SOON_HOURS", "24"))),
            shared_vulnerabilities=(
                frozenset(VulnerabilityCategory(v.strip()) for v in shared.split(",") if v.strip())
                if shared is not None
                else RETURN_RELEVANT_VULNERABILITIES
            ),
        )


def load_catalogue(path: str | None) -> PartnerCatalogue:
    """The default catalogue, or the partners listed in the JSON file at `path`.

    Each entry: `{"code", "name", "roles": [...], "regions": ["*" or region codes],
    "languages": [...], "contact_email", "acknowledge_within_working_days"}`.
    """
    if not path:
        return PartnerCatalogue(default_catalogue(load_reference_data()))
    entries = json.loads(Path(path).read_text(encoding="utf-8"))
    return PartnerCatalogue(
        PartnerProfile(
            code=e["code"],
            name=e["name"],
            roles=tuple(PartnerRole(r) for r in e["roles"]),
            regions=tuple(e.get("regions", ["*"])),
            languages=tuple(Language(lang) for lang in e["languages"]),
            contact_email=e.get("contact_email"),
            acknowledge_within_working_days=int(e["acknowledge_within_working_days"]),
        )
        for e in entries
    )
