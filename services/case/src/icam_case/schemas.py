"""Request and response bodies of the HTTP API, with examples for the OpenAPI document."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Generic, TypeVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from icam_contracts.enums import (
    ClosureReason,
    DossierElementKind,
    InterviewKind,
    Language,
    MemberChange,
    MemberRole,
    Outcome,
    SuspensionReason,
    VulnerabilityCategory,
)
from icam_contracts.personal_data import PersonalData
from icam_kernel.application import CommandResult
from icam_kernel.http_commands import CommandAccepted
from icam_kernel.inputs import BirthDate, Code, Day, Label, Name, Note, Subject

T = TypeVar("T")
CASE_ID = "9a4b6c2d-1e3f-4a5b-8c7d-0e1f2a3b4c5d"


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


PersonId = Annotated[str, Field(min_length=1, max_length=50, pattern=r"^[0-9A-Za-z./\-]+$")]


class MissingElementIn(Body):
    person_id: PersonId = Field(examples=["8123456"])
    element: DossierElementKind = Field(examples=["travel_document"])
    description: Label | None = Field(default=None, examples=["copy of passport, all pages"])
    due_on: date | None = Field(default=None, examples=["2026-04-01"])


class InterviewIn(Body):
    """An interview the coach held: when it really happened, who came, in which language."""

    occurred_at: AwareDatetime = Field(
        description="When it took place.", examples=["2026-03-11T10:00:00+01:00"]
    )
    kind: InterviewKind = Field(examples=["intake"])
    language: Language = Field(examples=["fr"])
    attendees: list[PersonId] = Field(
        min_length=1, max_length=20, description="Dossier references present.", examples=[["8123456"]]
    )
    interpreter_present: bool = Field(examples=[True])
    interpreter_language: str | None = Field(default=None, pattern=r"^[a-z]{2,3}$", examples=["ar"])
    topics: list[Label] = Field(
        default_factory=list, max_length=20, examples=[["legal situation", "return options"]]
    )
    notes: Note | None = Field(default=None, examples=["passport copy still missing"])
    duration_minutes: int | None = Field(default=None, ge=1, le=600, examples=[60])
    invitation_id: UUID | None = Field(default=None, examples=["7c9e6679-7425-40de-944b-e07fc1f90ae7"])
    office: Code | None = Field(default=None, examples=["brussels"])
    missing_elements: list[MissingElementIn] = Field(default_factory=list, max_length=20)
    interview_id: UUID | None = Field(default=None, description="Give one to make retries idempotent.")


class OutcomeIn(Body):
    """An outcome communicated to the household; to decide again, name the decision revised and why."""

    outcome: Outcome = Field(examples=["return_accepted"])
    rationale: Note = Field(examples=["no ground for a stay application in the file"])
    communicated: Note = Field(examples=["voluntary return programme and reintegration support explained"])
    communicated_in: Language = Field(examples=["fr"])
    consent_to_referral: bool | None = Field(default=None, description="Required for return_accepted.")
    preferred_partner: Code | None = Field(default=None, examples=["fedasil"])
    procedure_explained: bool | None = Field(
        default=None, description="Required (true) for legal_stay_possible."
    )
    consequences_explained: bool | None = Field(
        default=None, description="Required (true) for return_refused."
    )
    stay_procedure_started: bool = Field(default=False, description="Outcome A: the person already applied.")
    revises_decision_id: UUID | None = Field(default=None)
    revision_reason: Note | None = Field(default=None)
    interview_id: UUID | None = Field(default=None)
    expected_version: int | None = Field(
        default=None, ge=1, le=2**31 - 1, description="Refuse (409) if the case moved on."
    )


class VulnerabilityIn(Body):
    person_id: PersonId = Field(examples=["8123457"])
    categories: list[VulnerabilityCategory] = Field(
        min_length=1, max_length=10, examples=[["serious_illness"]]
    )
    details: Note | None = Field(default=None, examples=["needs a ground-floor room"])


class SuspendIn(Body):
    reason: SuspensionReason = Field(examples=["stay_procedure_started"])
    review_on: Day | None = Field(default=None, description="When to look at it again (a task then).")


class ApprovalIn(Body):
    """A team lead approves a proposed outcome (four eyes)."""


class SendBackIn(Body):
    """A team lead sends a proposed outcome back, saying why."""

    reason: Note = Field(examples=["consequences not yet explained with an interpreter"])


class MemberIn(Body):
    """Someone joining the household: a birth, or a family member arriving."""

    person_id: PersonId = Field(examples=["8123458"])
    role: MemberRole = Field(examples=["minor"])
    change: MemberChange = Field(examples=["birth"])
    given_name: Name | None = None
    family_name: Name | None = None
    birth_date: BirthDate | None = None
    nationality: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")

    def personal_data(self) -> PersonalData:
        fields = self.model_dump(exclude={"role", "change"})
        return PersonalData(**fields, is_minor=self.role is MemberRole.MINOR)


class MemberLeftIn(Body):
    """A member is no longer part of the household."""

    change: MemberChange = Field(examples=["left"])


class ResumeIn(Body):
    note: Label | None = Field(default=None, examples=["stay procedure rejected"])


class CloseIn(Body):
    reason: ClosureReason = Field(examples=["lost_contact"])
    reason_text: Note | None = Field(default=None, examples=["moved abroad"])


class AssignIn(Body):
    coach_id: Subject = Field(examples=["coach-4712"])


class TransferIn(Body):
    to_region: Code = Field(examples=["liege"])
    to_office: Code = Field(examples=["liege"])
    reason: Label | None = Field(default=None, examples=["moved house"])


class BulkReassignIn(Body):
    """Hand cases to another coach of the region."""

    case_ids: list[UUID] = Field(min_length=1, max_length=500)
    to_coach: Subject = Field(examples=["coach-4712"])
    confirm: bool = Field(
        default=False, description="Move even though interviews clash (listed in the answer)."
    )


class BulkTransferIn(Body):
    """Transfer cases to another region's office."""

    case_ids: list[UUID] = Field(min_length=1, max_length=500)
    to_region: Code = Field(examples=["liege"])
    to_office: Code = Field(examples=["liege"])
    reason: Label | None = Field(default=None, examples=["household moved"])


class MoveReportOut(BaseModel):
    """What happened to each case of a bulk move: moved (with its new version) or why not."""

    moved: list[dict[str, Any]]
    failed: list[dict[str, Any]]
    conflicts: list[dict[str, Any]] = Field(description="Agenda clashes the team lead confirmed.")


class DocumentOut(BaseModel):
    """A document on the file: what it is, whom it concerns, which requested element it satisfies."""

    document_id: UUID
    kind: str = Field(examples=["travel_document"])
    content_type: str = Field(examples=["application/pdf"])
    size_bytes: int
    added_at: datetime
    person_id: str | None
    element_id: UUID | None
    shared_with: list[str] = Field(
        default=[],
        description="The return partners it is shared with now (through an open referral).",
        examples=[["fedasil"]],
    )


class DocumentLink(BaseModel):
    """Where to view a document: a path below this service (below `/api` at the gateway), valid
    until `expires_at` (seconds since the epoch), and for the caller only."""

    url: str
    expires_at: int


class DocumentRemoveIn(Body):
    reason: Label = Field(examples=["added to the wrong file"])


class ElementReceivedIn(Body):
    received_at: AwareDatetime | None = Field(default=None, description="When it came in; now if omitted.")


class CaseAccepted(CommandAccepted):
    """The command's events are committed; `position` is what queries can wait for (min_position);
    `id` names what was created (an interview, a decision)."""

    case_id: UUID = Field(examples=[CASE_ID])

    @classmethod
    def of(cls, result: CommandResult) -> CaseAccepted:
        return cls(**cls.fields_of(result), case_id=UUID(result.stream_id))


class Page(BaseModel, Generic[T]):
    items: list[T]
    limit: int = Field(examples=[50])
    offset: int = Field(examples=[0])
    total: int = Field(examples=[1])


class CaseloadItem(BaseModel):
    case_id: UUID
    household_id: UUID
    region: str
    office: str
    coach_id: str | None
    status: str = Field(examples=["open"])
    entry_channel: str | None
    opened_at: datetime
    last_interview_at: datetime | None
    next_interview_due: datetime | None
    interviews_held: int
    outcome: str | None
    flags: list[str] = Field(examples=[["vulnerable", "elements_outstanding"]])
    adults: int
    minors: int
    version: int


class TaskItem(BaseModel):
    """Something to do on a case, and by when (derived from its events; no personal data)."""

    case_id: UUID
    household_id: UUID
    kind: str = Field(examples=["element_overdue"])
    ref: str = Field(description="What it is about: the invitation, element, decision or case id.")
    due_at: datetime
    overdue: bool
    region: str
    coach_id: str | None
    for_team_lead: bool = Field(description="A team lead's task (an outcome to approve).")


class CoachWorkload(BaseModel):
    """A coach's open and overdue tasks, for the region's team lead (counts only)."""

    coach_id: str | None = Field(description="None: cases without a coach.")
    open: int
    overdue: int
    overdue_by_kind: dict[str, int] = Field(examples=[{"element_overdue": 2}])


class TimelineEntry(BaseModel):
    occurred_at: datetime
    recorded_at: datetime
    source: str = Field(examples=["case"])
    event_type: str = Field(examples=["InterviewHeld"])
    event_id: UUID
    actor_role: str | None
    text: str = Field(examples=["Intake interview #1 held in French, with an interpreter; 2 present."])


class StatsRow(BaseModel):
    """Counts for one region and month; never personal data."""

    region: str = Field(examples=["brussels"])
    month: date = Field(examples=["2026-03-01"])
    opened: dict[str, int] = Field(examples=[{"invitation_letter": 12, "walk_in": 3}])
    outcomes: dict[str, int] = Field(
        examples=[{"legal_stay_possible": 2, "return_accepted": 4, "return_refused": 1}]
    )
    revisions: dict[str, int] = Field(examples=[{"return_refused": 1}])
    suspensions: dict[str, int] = Field(examples=[{"stay_procedure_started": 2}])
    closures: dict[str, int] = Field(examples=[{"return_refused": 1, "departed_voluntarily": 2}])
    first_outcomes: int = Field(examples=[7])
    average_days_to_outcome: float | None = Field(examples=[23.5])


class CaseView(BaseModel):
    """A case as it stands (or stood, with `as_of`); vulnerability details only for need-to-know roles."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"case_id": CASE_ID, "status": "open"}]})

    case_id: UUID
    household_id: UUID
    version: int
    as_of: datetime | None
    status: str
    region: str
    office: str
    coach_id: str | None
    entry_channel: str | None
    language: str
    opened_at: datetime | None
    members: list[dict[str, Any]]
    interviews_held: int
    interviews: list[dict[str, Any]] = Field(description="Notes only for the assigned coach and team lead.")
    last_interview_at: datetime | None
    next_interview_due: datetime | None
    consecutive_no_shows: int
    dossier_elements: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    pending_decision: dict[str, Any] | None = Field(
        default=None, description="An outcome proposed and awaiting a team lead's approval (four eyes)."
    )
    outcome_reopened: bool
    referral_status: str | None
    suspension_reason: str | None
    suspension_review_on: date | None = None
    closure_reason: str | None
    closed_at: datetime | None
    flags: list[str]
