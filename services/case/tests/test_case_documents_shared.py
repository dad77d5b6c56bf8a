"""Documents shared with a return partner: given a case's events, when the coach shares a document,
then a DocumentShared or the rule it breaks; and who sees it while the referral runs and after."""

from __future__ import annotations

import uuid

import pytest
from case_builders import CASE, HOUSEHOLD, given, opened

from icam_case.domain import AddDocument, add_document, share_document
from icam_case.domain.documents import NoReferralToShareWith
from icam_case.domain.errors import CaseStateConflict
from icam_contracts.enums import DocumentKind
from icam_contracts.events.case import CaseEvent, DocumentShared, ReferralProgressNoted, ReferralStatus

pytestmark = pytest.mark.unit

REFERRAL = uuid.UUID("0d5e2c1a-6b7f-4c3d-9e8a-1f2b3c4d5e6f")
DOCUMENT = uuid.UUID("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d")


def referral_news(
    status: ReferralStatus, referral_id: uuid.UUID = REFERRAL, partner: str = "fedasil"
) -> list[CaseEvent]:
    return [
        ReferralProgressNoted(
            household_id=HOUSEHOLD, case_id=CASE, referral_id=referral_id, status=status, partner=partner
        )
    ]


def travel_document() -> list[CaseEvent]:
    command = AddDocument(DOCUMENT, DocumentKind.TRAVEL_DOCUMENT, "application/pdf", 1200, "0" * 64)
    return add_document(given(opened()), command)


def test_a_document_is_shared_with_the_partner_that_holds_the_referral():
    case = given(opened(), travel_document(), referral_news(ReferralStatus.ACKNOWLEDGED))

    [shared] = share_document(case, DOCUMENT)

    assert isinstance(shared, DocumentShared)
    assert (shared.document_id, shared.referral_id, shared.partner) == (DOCUMENT, REFERRAL, "fedasil")


def test_the_partner_sees_it_only_while_it_holds_the_referral_open():
    shared = [opened(), travel_document(), referral_news(ReferralStatus.REFERRED)]
    case = given(*shared, share_document(given(*shared), DOCUMENT))
    document = case.document(DOCUMENT)
    assert document is not None

    withdrawn = given(*shared, share_document(case, DOCUMENT), referral_news(ReferralStatus.WITHDRAWN))

    assert case.partners_seeing(document) == ("fedasil",)
    assert not case.shared_with_partner(document, "iom")
    assert withdrawn.partners_seeing(document) == ()


def test_sharing_again_with_the_same_referral_changes_nothing():
    shared = [opened(), travel_document(), referral_news(ReferralStatus.REFERRED)]
    case = given(*shared, share_document(given(*shared), DOCUMENT))

    assert share_document(case, DOCUMENT) == []


@pytest.mark.parametrize(
    "news",
    [[], referral_news(ReferralStatus.REJECTED), referral_news(ReferralStatus.DEPARTED)],
    ids=["no-referral", "rejected", "departed"],
)
def test_without_a_referral_open_at_a_partner_there_is_no_one_to_share_with(news):
    case = given(opened(), travel_document(), news)

    with pytest.raises(NoReferralToShareWith):
        share_document(case, DOCUMENT)


def test_a_document_not_on_the_file_is_not_shared():
    case = given(opened(), referral_news(ReferralStatus.REFERRED))

    with pytest.raises(CaseStateConflict, match="no such document"):
        share_document(case, uuid.uuid4())
