"""The commands a coach or team lead gives a case, as plain values (times and ids included)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from icam_contracts.enums import ActorRole, DossierElementKind, InterviewKind, Language, Outcome
from icam_contracts.events.decisions import DecisionProvenance


@dataclass(frozen=True)
class Decider:
    """Who decides, and under which legal basis and guidelines: the provenance of a decision."""

    subject: str
    role: ActorRole
    legal_basis: str
    policy_version: str

    def provenance(self) -> DecisionProvenance:
        return DecisionProvenance(
            decided_by=self.subject,
            role=self.role,
            legal_basis=self.legal_basis,
            policy_version=self.policy_version,
        )


@dataclass(frozen=True)
class MissingElement:
    """An element the interview found missing from a member's file."""

    element_id: UUID
    person_id: str
    element: DossierElementKind
    description: str | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class RecordInterview:
    """An interview that took place at `held_at` (possibly recorded later)."""

    interview_id: UUID
    held_at: datetime
    kind: InterviewKind
    language: Language
    attendees: tuple[str, ...]
    interpreter_present: bool
    interpreter_language: str | None = None
    topics: tuple[str, ...] = ()
    notes: str | None = None
    duration_minutes: int | None = None
    invitation_id: UUID | None = None
    office: str | None = None
    missing_elements: tuple[MissingElement, ...] = ()


@dataclass(frozen=True)
class DecideOutcome:
    """An outcome communicated to the household; a revision names the decision it replaces."""

    decision_id: UUID
    outcome: Outcome
    rationale: str
    communicated: str
    communicated_in: Language
    consent_to_referral: bool | None = None
    preferred_partner: str | None = None
    procedure_explained: bool | None = None
    consequences_explained: bool | None = None
    stay_procedure_started: bool = False
    revises_decision_id: UUID | None = None
    revision_reason: str | None = None
    interview_id: UUID | None = None
