"""The case as a fold of its events: `evolve(case, event, at)` is the only way its state changes."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from functools import singledispatch
from typing import Final
from uuid import UUID

from icam_contracts.base import Event
from icam_contracts.enums import (
    ClosureReason,
    DocumentKind,
    DossierElementKind,
    EntryChannel,
    InterviewKind,
    Language,
    MemberRole,
    Outcome,
    SuspensionReason,
    VulnerabilityCategory,
)
from icam_contracts.events.case import (
    AppointmentChanged,
    CaseEvent,
    CaseOpened,
    CaseTransferred,
    CoachAssigned,
    ContactLost,
    ContactProblemFlagged,
    DocumentAdded,
    DocumentRemoved,
    DocumentShared,
    DossierElementReceived,
    DossierElementRequested,
    HouseholdMemberAdded,
    HouseholdMemberLeft,
    InterviewHeld,
    InvitationAttached,
    NoShowCounted,
    OutcomeReopened,
    ReferralProgressNoted,
    ReferralStatus,
    VulnerabilityFlagged,
)
from icam_contracts.events.decisions import (
    OutcomeApproved,
    OutcomeDecided,
    OutcomeProposalRejected,
    OutcomeProposed,
    TrajectoryClosed,
    TrajectoryResumed,
    TrajectorySuspended,
)
from icam_contracts.personal_data import PersonalData
from icam_kernel.decider import Aggregate


class CaseStatus(StrEnum):
    """Where the trajectory stands; only `open` and `contact_lost` accept interviews."""

    OPEN = "open"
    CONTACT_LOST = "contact_lost"
    SUSPENDED = "suspended"
    CLOSED = "closed"


@dataclass(frozen=True)
class Vulnerability:
    """One flag on a member: categories for everyone entitled, details for need-to-know roles only."""

    categories: tuple[VulnerabilityCategory, ...]
    details: str | None
    flagged_at: datetime


@dataclass(frozen=True)
class Member:
    """A household member and their own record within the case."""

    person_id: str
    role: MemberRole
    vulnerabilities: tuple[Vulnerability, ...] = ()
    left: bool = False
    identity: PersonalData | None = None  # names, birth date, language: need-to-know (access.py)


@dataclass(frozen=True)
class DossierElement:
    """An element found missing from a member's file, and whether it has come in."""

    element_id: UUID
    person_id: str
    kind: DossierElementKind
    requested_at: datetime
    received_at: datetime | None = None
    due_on: date | None = None


@dataclass(frozen=True)
class Document:
    """A document on the file: what it is, whom it concerns, whether it was taken off."""

    document_id: UUID
    kind: DocumentKind
    content_type: str
    size_bytes: int
    added_at: datetime
    person_id: str | None
    element_id: UUID | None
    removed: bool = False
    shared_with: tuple[UUID, ...] = ()  # the referrals it was shared through


@dataclass(frozen=True)
class Interview:
    """An interview held: the members' shared record of what was discussed, how and with whom."""

    interview_id: UUID
    sequence_number: int
    kind: InterviewKind
    held_at: datetime
    language: Language
    interpreter_present: bool | None
    attendees: tuple[str, ...]
    topics: tuple[str, ...]
    notes: str | None


@dataclass(frozen=True)
class Decision:
    """An outcome decided; a revision names the decision it replaces, and both stay in history."""

    decision_id: UUID
    outcome: Outcome
    decided_at: datetime
    consent_to_referral: bool | None
    revises_decision_id: UUID | None


@dataclass(frozen=True)
class Case:
    """The state of one case, folded from its stream; `version` is the stream version."""

    case_id: UUID | None = None
    household_id: UUID | None = None
    version: int = 0
    status: CaseStatus = CaseStatus.OPEN
    region: str = ""
    office: str = ""
    coach_id: str | None = None
    entry_channel: EntryChannel | None = None
    language: Language = Language.FR
    opened_at: datetime | None = None
    members: tuple[Member, ...] = ()
    interviews: tuple[Interview, ...] = ()
    last_interview_at: datetime | None = None
    invitations: tuple[UUID, ...] = ()
    next_appointment_at: datetime | None = None
    invitation_attached_at: datetime | None = None
    consecutive_no_shows: int = 0
    last_no_show_at: datetime | None = None
    elements: tuple[DossierElement, ...] = ()
    decisions: tuple[Decision, ...] = ()
    outcome_reopened: bool = False
    referral_status: ReferralStatus | None = None
    referral_noted_at: datetime | None = None
    referral_id: UUID | None = None
    # the latest news of each referral (None: no referral made), oldest first: the referral the
    # case follows is chosen from all of them, whatever order their events arrived in
    referrals: tuple[tuple[UUID | None, ReferralStatus], ...] = ()
    referral_partners: tuple[tuple[UUID, str], ...] = ()  # the partner each referral went to
    contact_problem: bool = False
    suspension_reason: SuspensionReason | None = None
    suspension_review_on: date | None = None
    suspended_at: datetime | None = None
    closure_reason: ClosureReason | None = None
    closed_at: datetime | None = None
    pending: OutcomeProposed | None = None
    pending_since: datetime | None = None
    documents: tuple[Document, ...] = ()

    @property
    def exists(self) -> bool:
        return self.case_id is not None

    @property
    def interviews_held(self) -> int:
        return len(self.interviews)

    @property
    def current_decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None

    @property
    def flags(self) -> tuple[str, ...]:
        """What needs the coach's attention, as short codes (no personal data)."""
        flags = {
            "vulnerable": any(m.vulnerabilities for m in self.members),
            "contact_lost": self.status is CaseStatus.CONTACT_LOST,
            "contact_problem": self.contact_problem,
            "outcome_reopened": self.outcome_reopened,
            "elements_outstanding": any(e.received_at is None for e in self.elements),
            "referral_stalled": self.referral_status in (ReferralStatus.REJECTED, ReferralStatus.OVERDUE),
            "minors": any(m.role is MemberRole.MINOR and not m.left for m in self.members),
            "approval_pending": self.pending is not None,
        }
        return tuple(name for name, on in flags.items() if on)

    def member(self, person_id: str) -> Member | None:
        """The member with this dossier reference, or None (a member who left is still one)."""
        return next((m for m in self.members if m.person_id == person_id), None)

    @property
    def present_members(self) -> tuple[Member, ...]:
        """The members who are part of the household now."""
        return tuple(m for m in self.members if not m.left)

    def document(self, document_id: UUID) -> Document | None:
        """The document with this id (also one taken off the file), or None."""
        return next((d for d in self.documents if d.document_id == document_id), None)

    def partner_of(self, referral_id: UUID) -> str | None:
        """The return partner a referral went to, as the case heard it."""
        return next((p for r, p in self.referral_partners if r == referral_id), None)

    def open_at_partner(self, referral_id: UUID) -> bool:
        """Whether the partner still holds this referral open (referred, acknowledged, overdue)."""
        latest = next((s for r, s in reversed(self.referrals) if r == referral_id), None)
        return latest in _PARTNER_HAS_IT

    def partners_seeing(self, document: Document) -> tuple[str, ...]:
        """The partners who see the document now: it was shared through a referral they hold open."""
        if document.removed:
            return ()
        open_ones = (self.partner_of(r) for r in document.shared_with if self.open_at_partner(r))
        return tuple(sorted({p for p in open_ones if p is not None}))

    def shared_with_partner(self, document: Document, partner: str | None) -> bool:
        return partner in self.partners_seeing(document)

    def element(self, element_id: UUID) -> DossierElement | None:
        """The requested element with this id, or None."""
        return next((e for e in self.elements if e.element_id == element_id), None)


def fold(events: Iterable[tuple[CaseEvent, datetime]], case: Case | None = None) -> Case:
    """The case after `events` (each with the time it occurred), from `case` or from nothing."""
    state = case or Case()
    for event, at in events:
        state = evolve(state, event, at)
    return state


def evolve(case: Case, event: Event, at: datetime) -> Case:
    """The case after one more event; the version counts every event, known or not."""
    return replace(_apply(event, case, at), version=case.version + 1)


@singledispatch
def _apply(event: Event, case: Case, at: datetime) -> Case:
    return case  # an event type this version does not fold changes nothing but the version


@_apply.register
def _opened(event: CaseOpened, case: Case, at: datetime) -> Case:
    members = tuple(
        Member(m.person_id, MemberRole.MINOR if m.is_minor else MemberRole.ADULT, identity=m)
        for m in event.members
    )
    return replace(
        case,
        case_id=event.case_id,
        household_id=event.household_id,
        region=event.region,
        office=event.office,
        coach_id=event.coach_id,
        entry_channel=event.entry_channel,
        language=event.language,
        opened_at=at,
        members=members,
        invitations=(event.origin_id,) if event.origin_id else (),
    )


@_apply.register
def _assigned(event: CoachAssigned, case: Case, at: datetime) -> Case:
    return replace(case, coach_id=event.coach_id)


@_apply.register
def _transferred(event: CaseTransferred, case: Case, at: datetime) -> Case:
    # the coach belonged to the old region: the new region's team lead assigns one
    return replace(case, region=event.to_region, office=event.to_office, coach_id=None)


@_apply.register
def _attached(event: InvitationAttached, case: Case, at: datetime) -> Case:
    return replace(
        case,
        invitations=(*case.invitations, event.invitation_id),
        next_appointment_at=event.appointment_at,
        invitation_attached_at=at,
        last_no_show_at=None,
    )


@_apply.register
def _interview(event: InterviewHeld, case: Case, at: datetime) -> Case:
    status = CaseStatus.OPEN if case.status is CaseStatus.CONTACT_LOST else case.status
    interview = Interview(
        interview_id=event.interview_id,
        sequence_number=event.sequence_number or len(case.interviews) + 1,
        kind=event.kind,
        held_at=at,
        language=event.language,
        interpreter_present=event.interpreter_present,
        attendees=tuple(a.person_id for a in event.attendees),
        topics=event.topics,
        notes=event.notes,
    )
    return replace(
        case,
        interviews=(*case.interviews, interview),
        last_interview_at=at,
        consecutive_no_shows=0,
        last_no_show_at=None,
        next_appointment_at=None,
        status=status,
    )


@_apply.register
def _element_requested(event: DossierElementRequested, case: Case, at: datetime) -> Case:
    element = DossierElement(
        event.element_id, event.person_id, event.element, requested_at=at, due_on=event.due_on
    )
    return replace(case, elements=(*case.elements, element))


@_apply.register
def _element_received(event: DossierElementReceived, case: Case, at: datetime) -> Case:
    elements = tuple(
        replace(e, received_at=at) if e.element_id == event.element_id else e for e in case.elements
    )
    return replace(case, elements=elements)


@_apply.register
def _vulnerability(event: VulnerabilityFlagged, case: Case, at: datetime) -> Case:
    flag = Vulnerability(tuple(event.person.vulnerabilities), event.details, at)
    members = tuple(
        replace(m, vulnerabilities=(*m.vulnerabilities, flag)) if m.person_id == event.person.person_id else m
        for m in case.members
    )
    return replace(case, members=members)


@_apply.register
def _no_show(event: NoShowCounted, case: Case, at: datetime) -> Case:
    return replace(
        case, consecutive_no_shows=event.consecutive_no_shows, next_appointment_at=None, last_no_show_at=at
    )


@_apply.register
def _contact_lost(event: ContactLost, case: Case, at: datetime) -> Case:
    return replace(case, status=CaseStatus.CONTACT_LOST)


@_apply.register
def _contact_problem(event: ContactProblemFlagged, case: Case, at: datetime) -> Case:
    return replace(case, contact_problem=True)


@_apply.register
def _decided(event: OutcomeDecided, case: Case, at: datetime) -> Case:
    decision = Decision(
        event.decision_id, event.outcome, at, event.consent_to_referral, event.revises_decision_id
    )
    return replace(case, decisions=(*case.decisions, decision), outcome_reopened=False)


@_apply.register
def _document_added(event: DocumentAdded, case: Case, at: datetime) -> Case:
    document = Document(
        event.document_id,
        event.kind,
        event.content_type,
        event.size_bytes,
        at,
        event.person_id,
        event.element_id,
    )
    return replace(case, documents=(*case.documents, document))


@_apply.register
def _document_removed(event: DocumentRemoved, case: Case, at: datetime) -> Case:
    documents = tuple(
        replace(d, removed=True) if d.document_id == event.document_id else d for d in case.documents
    )
    return replace(case, documents=documents)


@_apply.register
def _document_shared(event: DocumentShared, case: Case, at: datetime) -> Case:
    documents = tuple(
        replace(d, shared_with=(*d.shared_with, event.referral_id))
        if d.document_id == event.document_id
        else d
        for d in case.documents
    )
    return replace(case, documents=documents)


@_apply.register
def _proposed(event: OutcomeProposed, case: Case, at: datetime) -> Case:
    return replace(case, pending=event, pending_since=at)


@_apply.register
def _approved(event: OutcomeApproved, case: Case, at: datetime) -> Case:
    return replace(case, pending=None)


@_apply.register
def _proposal_rejected(event: OutcomeProposalRejected, case: Case, at: datetime) -> Case:
    return replace(case, pending=None)


@_apply.register
def _member_added(event: HouseholdMemberAdded, case: Case, at: datetime) -> Case:
    role = MemberRole.MINOR if event.member.is_minor else MemberRole.ADULT
    return replace(case, members=(*case.members, Member(event.member.person_id, role, identity=event.member)))


@_apply.register
def _member_left(event: HouseholdMemberLeft, case: Case, at: datetime) -> Case:
    members = tuple(replace(m, left=True) if m.person_id == event.person_id else m for m in case.members)
    return replace(case, members=members)


@_apply.register
def _appointment(event: AppointmentChanged, case: Case, at: datetime) -> Case:
    return replace(case, next_appointment_at=event.appointment_at)


@_apply.register
def _reopened(event: OutcomeReopened, case: Case, at: datetime) -> Case:
    return replace(case, outcome_reopened=True)


@_apply.register
def _referral(event: ReferralProgressNoted, case: Case, at: datetime) -> Case:
    news = (*(r for r in case.referrals if r[0] != event.referral_id), (event.referral_id, event.status))
    followed_id, followed = followed_referral(news)
    referral_id = followed_id or case.referral_id
    changed = (referral_id, followed) != (case.referral_id, case.referral_status)
    partners = case.referral_partners
    if (
        event.referral_id is not None
        and event.partner is not None
        and case.partner_of(event.referral_id) is None
    ):
        partners = (*partners, (event.referral_id, event.partner))
    return replace(
        case,
        referrals=news,
        referral_partners=partners,
        referral_status=followed,
        referral_id=referral_id,
        referral_noted_at=at if changed else case.referral_noted_at,  # since when it is so
    )


_PARTNER_HAS_IT = frozenset({ReferralStatus.REFERRED, ReferralStatus.ACKNOWLEDGED, ReferralStatus.OVERDUE})


def followed_referral(
    news: tuple[tuple[UUID | None, ReferralStatus], ...],
) -> tuple[UUID | None, ReferralStatus]:
    """The referral a case follows: the latest one a partner still has open; else the latest that
    is not a rejection; else the latest. A rejection and what follows it (the next partner's
    referral, or none left) are published in one transaction but on different keys, so they can
    arrive in either order: the case converges all the same (issue 18, item 4)."""
    for wanted in (_PARTNER_HAS_IT, frozenset(ReferralStatus) - {ReferralStatus.REJECTED}):
        found = next((r for r in reversed(news) if r[1] in wanted), None)
        if found is not None:
            return found
    return news[-1]


@_apply.register
def _suspended(event: TrajectorySuspended, case: Case, at: datetime) -> Case:
    return replace(
        case,
        status=CaseStatus.SUSPENDED,
        suspension_reason=event.reason,
        suspension_review_on=event.review_on,
        suspended_at=at,
    )


@_apply.register
def _resumed(event: TrajectoryResumed, case: Case, at: datetime) -> Case:
    return replace(
        case, status=CaseStatus.OPEN, suspension_reason=None, suspension_review_on=None, suspended_at=None
    )


@_apply.register
def _closed(event: TrajectoryClosed, case: Case, at: datetime) -> Case:
    return replace(case, status=CaseStatus.CLOSED, closure_reason=event.reason, closed_at=at)


CASE: Final = Aggregate("case", Case(), evolve, lambda case: case.exists)
"""The case stream's decider: its initial state and fold (`icam_kernel.decider`)."""
