"""Events of the case service that decide the course of a trajectory, with their provenance."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, ClassVar, Final
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from icam_contracts.base import Contract, PartnerCode, SubjectId
from icam_contracts.enums import ActorRole, ClosureReason, Language, Outcome, SuspensionReason
from icam_contracts.events import _examples as ex
from icam_contracts.events.case import CaseEvent, CaseId
from icam_contracts.personal_data import PERSONAL_TEXT

_OTHER_NEEDS_TEXT: Final[dict[str, Any]] = {
    "if": {"properties": {"reason": {"const": "other"}}, "required": ["reason"]},
    "then": {"properties": {"reason_text": {"type": "string", "minLength": 1}}, "required": ["reason_text"]},
}
_REVISION_NEEDS_REASON: Final[dict[str, Any]] = {
    "if": {"properties": {"revises_decision_id": {"type": "string"}}, "required": ["revises_decision_id"]},
    "then": {
        "properties": {"revision_reason": {"type": "string", "minLength": 1}},
        "required": ["revision_reason"],
    },
}


class DecisionProvenance(Contract):
    """Who took a decision, in which role, on which legal basis and under which policy version."""

    decided_by: SubjectId = Field(description="Subject of the person who decided.")
    role: ActorRole = Field(description="Role they decided in.", examples=["coach"])
    legal_basis: str = Field(
        min_length=1,
        description="Legal basis the decision rests on.",
        examples=[ex.PROVENANCE["legal_basis"]],
    )
    policy_version: str = Field(
        min_length=1,
        description="Version of the ICAM guidelines applied.",
        examples=[ex.PROVENANCE["policy_version"]],
    )


Provenance = Annotated[
    DecisionProvenance,
    Field(description="Provenance of the decision.", examples=[ex.PROVENANCE]),
]


class _OutcomeContent(CaseEvent):
    """What an outcome says: shared by its proposal (four-eyes) and its decision."""

    case_id: CaseId
    decision_id: UUID = Field(description="This decision.", examples=[ex.DECISION_ID])
    outcome: Outcome = Field(description="The outcome communicated.", examples=["return_accepted"])
    provenance: Provenance
    communicated_in: Language = Field(description="Language the outcome was explained in.", examples=["fr"])
    consent_to_referral: bool | None = Field(
        default=None,
        description="For return_accepted: whether the person consented to a referral.",
        examples=[True],
    )
    preferred_partner: PartnerCode | None = Field(
        default=None,
        description="Return partner the person chose or the coach proposed, if any.",
        examples=["fedasil"],
    )
    revises_decision_id: UUID | None = Field(
        default=None,
        description="The earlier decision this one revises, if any.",
        examples=[ex.PREVIOUS_DECISION_ID],
    )
    revision_reason: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="Why the earlier decision was revised; required with revises_decision_id.",
        examples=["new element in the file: proof of a pending procedure"],
    )
    rationale: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        max_length=4000,
        description="Why the coach reached this outcome, from the file review.",
        examples=["no pending procedure; no ground for a stay application found in the file"],
    )
    communicated: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        max_length=4000,
        description="What was told to the person (options, procedure, consequences).",
        examples=["voluntary return programme explained, with reintegration support"],
    )
    procedure_explained: bool | None = Field(
        default=None,
        description="For legal_stay_possible: the stay procedure was explained to the person.",
        examples=[True],
    )
    consequences_explained: bool | None = Field(
        default=None,
        description=(
            "For return_refused: the consequences (forced return, possible detention) were explained."
        ),
        examples=[True],
    )
    interview_id: UUID | None = Field(
        default=None,
        description="The interview in which the outcome was communicated, if recorded.",
        examples=[ex.INTERVIEW_ID],
    )

    model_config = ConfigDict(json_schema_extra=_REVISION_NEEDS_REASON)

    @model_validator(mode="after")
    def _a_revision_says_why(self) -> _OutcomeContent:
        if self.revises_decision_id is not None and not self.revision_reason:
            raise ValueError("a revision needs a revision_reason")
        return self


class OutcomeDecided(_OutcomeContent):
    """The coach concluded the file review and communicated an outcome (A, B or C).

    A decision can be revised: the revising event names the decision it replaces and why. For
    ``return_accepted`` it records whether the person consented to a referral to a return partner.
    An outcome that needs a second pair of eyes (by default C) is decided only once a team lead
    approved its proposal: ``approval`` then says who.
    """

    event_type: ClassVar[str] = "OutcomeDecided"
    event_version: ClassVar[int] = 1

    approval: DecisionProvenance | None = Field(
        default=None,
        description="The team lead who approved the proposal (four-eyes), when approval was needed.",
        examples=[{**ex.PROVENANCE, "decided_by": "lead-4001", "role": "team_lead"}],
    )


class OutcomeProposed(_OutcomeContent):
    """A coach proposed an outcome that needs a team lead's approval before it takes effect (by
    default C: return refused, which closes the trajectory). Nothing is communicated to the person
    or to partners until it is approved; ``provenance`` is the proposing coach."""

    event_type: ClassVar[str] = "OutcomeProposed"
    event_version: ClassVar[int] = 1


class OutcomeApproved(CaseEvent):
    """A team lead, not the proposer, approved the proposed outcome; it takes effect now."""

    event_type: ClassVar[str] = "OutcomeApproved"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    decision_id: UUID = Field(description="The decision proposed and approved.", examples=[ex.DECISION_ID])
    approval: Provenance


class OutcomeProposalRejected(CaseEvent):
    """A team lead sent the proposed outcome back; the file stays open for another decision."""

    event_type: ClassVar[str] = "OutcomeProposalRejected"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    decision_id: UUID = Field(description="The decision proposed.", examples=[ex.DECISION_ID])
    reason: str = Field(
        json_schema_extra=PERSONAL_TEXT,
        min_length=1,
        max_length=2000,
        description="Why, in non-personal words.",
        examples=["consequences not yet explained with an interpreter"],
    )
    approval: Provenance


class TrajectorySuspended(CaseEvent):
    """The trajectory is on hold: a stay procedure started, or public-order facts."""

    event_type: ClassVar[str] = "TrajectorySuspended"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    reason: SuspensionReason = Field(description="Why.", examples=["stay_procedure_started"])
    provenance: Provenance
    review_on: date | None = Field(
        default=None,
        description="When the coach looks at the suspension again (the case's task list shows it).",
        examples=["2026-06-30"],
    )


class TrajectoryResumed(CaseEvent):
    """A suspended trajectory continues where it stopped."""

    event_type: ClassVar[str] = "TrajectoryResumed"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    provenance: Provenance
    note: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="Why, in a few non-personal words.",
        examples=["stay procedure rejected"],
    )


class TrajectoryClosed(CaseEvent):
    """The ICAM trajectory ended. ``other`` as reason requires ``reason_text``."""

    event_type: ClassVar[str] = "TrajectoryClosed"
    event_version: ClassVar[int] = 1

    case_id: CaseId
    reason: ClosureReason = Field(description="Why it closed.", examples=["return_refused"])
    reason_text: str | None = Field(
        json_schema_extra=PERSONAL_TEXT,
        default=None,
        description="Explanation; required when reason is other.",
        examples=["consequences (forced return, possible detention) explained in French"],
    )
    final_outcome: Outcome | None = Field(
        default=None, description="Last outcome decided, if any.", examples=["return_refused"]
    )
    provenance: Provenance

    model_config = ConfigDict(json_schema_extra=_OTHER_NEEDS_TEXT)

    @model_validator(mode="after")
    def _other_says_what(self) -> TrajectoryClosed:
        if self.reason is ClosureReason.OTHER and not self.reason_text:
            raise ValueError("closure reason 'other' needs a reason_text")
        return self
