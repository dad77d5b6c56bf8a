"""Settings of the case service, from the environment with defaults; tests pass their own."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from icam_case.domain.tasks import TaskPolicy
from icam_contracts.enums import Outcome
from icam_contracts.reference import ReferenceData, load_reference_data
from icam_contracts.topics import CASE_EVENTS, INVITATION_EVENTS, NOTIFICATION_EVENTS, REFERRAL_EVENTS
from icam_kernel.service import ServiceSettings

SERVICE = "case"
MIGRATIONS = Path(__file__).parent / "migrations"

DEFAULT_LEGAL_BASIS = "Law of 15 December 1980, art. 74/2 and 74/14 (alternatives to detention)"
DEFAULT_POLICY_VERSION = "icam-guidelines-2024.2"


@dataclass(frozen=True)
class Topics:
    """Where the case publishes and what it reads; a prefix isolates test runs and environments."""

    case: str = CASE_EVENTS
    invitation: str = INVITATION_EVENTS
    referral: str = REFERRAL_EVENTS
    notification: str = NOTIFICATION_EVENTS

    @classmethod
    def with_prefix(cls, prefix: str) -> Topics:
        return cls(
            *(
                f"{prefix}{name}"
                for name in (CASE_EVENTS, INVITATION_EVENTS, REFERRAL_EVENTS, NOTIFICATION_EVENTS)
            )
        )


@dataclass(frozen=True)
class CaseSettings:
    """Everything configurable about the case service.

    `no_show_threshold`: consecutive no-shows that mark contact as lost (CASE_NO_SHOW_THRESHOLD).
    `legal_basis` / `policy_version`: provenance stamped on decisions (CASE_LEGAL_BASIS, CASE_POLICY_VERSION).
    `default_region`: region of helpline requests that name none (CASE_DEFAULT_REGION).
    `needs_approval`: outcomes a team lead approves before they take effect (CASE_APPROVAL_REQUIRED,
    comma-separated outcome codes; default `return_refused`; empty: none).
    `staff`: coach → region, from the identity provider's export (CASE_STAFF_DIRECTORY, a JSON file of
    `{"coach-4711": "brussels"}`); without it a coach's region is that of the cases they hold.
    `slot`: an interview's length, for agenda clashes in bulk moves (CASE_SLOT_MINUTES, 60).
    `tasks`: the delays behind the task list (CASE_TASK_UNANSWERED_DAYS 3, CASE_TASK_STAY_APPLICATION_DAYS
    30, CASE_TASK_SUSPENSION_REVIEW_DAYS 90).
    """

    service: ServiceSettings
    topics: Topics = field(default_factory=Topics)
    consumer_group: str = "icam-case"
    no_show_threshold: int = 2
    legal_basis: str = DEFAULT_LEGAL_BASIS
    policy_version: str = DEFAULT_POLICY_VERSION
    default_region: str = "brussels"
    needs_approval: frozenset[Outcome] = frozenset({Outcome.RETURN_REFUSED})
    tasks: TaskPolicy = field(default_factory=TaskPolicy)
    staff: dict[str, str] = field(default_factory=dict)
    slot: timedelta = timedelta(minutes=60)
    read_your_writes_timeout: float = 2.0
    reference: ReferenceData = field(default_factory=load_reference_data)

    @classmethod
    def from_env(cls) -> CaseSettings:
        """Read DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ICAM_TOPIC_PREFIX and the CASE_* variables."""
        env = os.environ
        return cls(
            service=ServiceSettings.from_env(default_name=SERVICE),
            topics=Topics.with_prefix(env.get("ICAM_TOPIC_PREFIX", "")),
            consumer_group=env.get("CASE_CONSUMER_GROUP", "icam-case"),
            no_show_threshold=int(env.get("CASE_NO_SHOW_THRESHOLD", "2")),
            legal_basis=env.get("CASE_LEGAL_BASIS", DEFAULT_LEGAL_BASIS),
            policy_version=env.get("CASE_POLICY_VERSION", DEFAULT_POLICY_VERSION),
            default_region=env.get("CASE_DEFAULT_REGION", "brussels"),
            staff=load_staff(env.get("CASE_STAFF_DIRECTORY")),
            slot=timedelta(minutes=float(env.get("CASE_SLOT_MINUTES", "60"))),
            tasks=TaskPolicy(
                unanswered_after=timedelta(days=float(env.get("CASE_TASK_UNANSWERED_DAYS", "3"))),
                stay_application_within=timedelta(
                    days=float(env.get("CASE_TASK_STAY_APPLICATION_DAYS", "30"))
                ),
                review_suspension_after=timedelta(
                    days=float(env.get("CASE_TASK_SUSPENSION_REVIEW_DAYS", "90"))
                ),
            ),
            needs_approval=frozenset(
                Outcome(code.strip())
                for code in env.get("CASE_APPROVAL_REQUIRED", "return_refused").split(",")
                if code.strip()
            ),
        )

    def office_for(self, region: str, office: str | None = None) -> str:
        """The office named, or the region's first office (helpline requests name no office)."""
        if office:
            return office
        offices = self.reference.offices_in(region)
        return offices[0].code if offices else region


def load_staff(path: str | None) -> dict[str, str]:
    """The staff directory (coach → region) from a JSON file, or none."""
    if not path:
        return {}
    return {str(k): str(v) for k, v in json.loads(Path(path).read_text(encoding="utf-8")).items()}
