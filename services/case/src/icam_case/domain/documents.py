"""Documents on the file: added (satisfying a requested element of the dossier, if it names one)
and taken off again. Pure: the content itself is the adapter's; here only what the file says."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from icam_case.domain.decide import ensure_not_closed, member_of
from icam_case.domain.errors import CaseRuleViolation, CaseStateConflict, UnknownElement
from icam_case.domain.state import Case
from icam_contracts.enums import DocumentKind
from icam_contracts.events.case import (
    CaseEvent,
    DocumentAdded,
    DocumentRemoved,
    DocumentShared,
    DossierElementReceived,
)

ACCEPTED_TYPES = frozenset({"application/pdf", "image/jpeg", "image/png"})


@dataclass(frozen=True)
class AddDocument:
    """A document the coach collected, as the adapter read it (its type from its bytes)."""

    document_id: UUID
    kind: DocumentKind
    content_type: str
    size_bytes: int
    sha256: str
    person_id: str | None = None
    element_id: UUID | None = None


class UnsupportedDocument(CaseRuleViolation):
    """The file is not a PDF, JPEG or PNG (read from its bytes, whatever its name says) (422)."""

    code = "unsupported-document-type"


def add_document(case: Case, cmd: AddDocument) -> list[CaseEvent]:
    """DocumentAdded; a requested element it satisfies is received with it."""
    ensure_not_closed(case, "add a document")
    if cmd.content_type not in ACCEPTED_TYPES:
        raise UnsupportedDocument(
            "only PDF, JPEG and PNG documents are kept (read from the content)",
            field="content",
            detected=cmd.content_type,
        )
    if cmd.person_id is not None:
        member_of(case, cmd.person_id, "person_id")
    assert case.case_id is not None and case.household_id is not None
    ids = {"household_id": case.household_id, "case_id": case.case_id}
    added = DocumentAdded(
        **ids,
        document_id=cmd.document_id,
        kind=cmd.kind,
        content_type=cmd.content_type,
        size_bytes=cmd.size_bytes,
        sha256=cmd.sha256,
        person_id=cmd.person_id,
        element_id=cmd.element_id,
    )
    if cmd.element_id is None:
        return [added]
    element = case.element(cmd.element_id)
    if element is None:
        raise UnknownElement(str(cmd.element_id))
    if element.received_at is not None:
        return [added]
    received = DossierElementReceived(
        **ids, element_id=element.element_id, person_id=element.person_id, element=element.kind
    )
    return [added, received]


def remove_document(case: Case, document_id: UUID, reason: str) -> list[CaseEvent]:
    """Take a document off the file, saying why."""
    ensure_not_closed(case, "remove a document")
    document = case.document(document_id)
    if document is None or document.removed:
        raise CaseStateConflict("no such document on the file", status=case.status, version=case.version)
    assert case.case_id is not None and case.household_id is not None
    return [
        DocumentRemoved(
            household_id=case.household_id, case_id=case.case_id, document_id=document_id, reason=reason
        )
    ]


class NoReferralToShareWith(CaseStateConflict):
    """No return partner holds a referral of this household open: there is no one to share with (409)."""

    code = "no-open-referral"


def share_document(case: Case, document_id: UUID) -> list[CaseEvent]:
    """Share a document with the partner of the referral the case follows; sharing it again with
    the same referral changes nothing."""
    ensure_not_closed(case, "share a document")
    document = case.document(document_id)
    if document is None or document.removed:
        raise CaseStateConflict("no such document on the file", status=case.status, version=case.version)
    referral_id = case.referral_id
    partner = case.partner_of(referral_id) if referral_id else None
    if referral_id is None or partner is None or not case.open_at_partner(referral_id):
        raise NoReferralToShareWith(
            "no return partner holds a referral of this household open",
            status=case.status,
            version=case.version,
        )
    if referral_id in document.shared_with:
        return []
    assert case.case_id is not None and case.household_id is not None
    return [
        DocumentShared(
            household_id=case.household_id,
            case_id=case.case_id,
            document_id=document_id,
            referral_id=referral_id,
            partner=partner,
        )
    ]
