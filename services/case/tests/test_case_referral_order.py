"""The referral the case follows does not depend on the order its news arrives in (issue 18, item 4).

The referral service rejects R1 and refers to the next partner (R2) in one transaction, but the two
events are keyed R1 and R2: Kafka keeps no order between them, so the case may hear of either first.
"""

from __future__ import annotations

import itertools
import uuid

import pytest
from case_builders import given, opened

from icam_case.domain import note_referral
from icam_contracts.events.case import ReferralStatus

pytestmark = pytest.mark.unit

R1, R2 = uuid.UUID(int=1), uuid.UUID(int=2)
REJECTED_AND_REFERRED_ONWARD = [(R1, ReferralStatus.REJECTED), (R2, ReferralStatus.REFERRED)]
REJECTED_AND_NONE_LEFT = [(R2, ReferralStatus.REJECTED), (None, ReferralStatus.NOT_MADE)]


def news_in(order: tuple[tuple[uuid.UUID | None, ReferralStatus], ...]) -> list:  # type: ignore[type-arg]
    """ReferralProgressNoted events, each decided on the case as it stood."""
    batches: list = []  # type: ignore[type-arg]
    for referral, status in order:
        batches.append(note_referral(given(opened(), *batches), status, referral_id=referral))
    return batches


@pytest.mark.parametrize("order", itertools.permutations(REJECTED_AND_REFERRED_ONWARD))
def test_a_rejection_and_the_next_partners_referral_leave_the_case_on_the_new_referral(order):
    case = given(opened(), *news_in(((R1, ReferralStatus.REFERRED), *order)))

    assert (case.referral_status, case.referral_id) == (ReferralStatus.REFERRED, R2)
    assert "referral_stalled" not in case.flags


@pytest.mark.parametrize("order", itertools.permutations(REJECTED_AND_NONE_LEFT))
def test_the_last_rejection_and_no_partner_left_leave_the_case_with_no_referral_made(order):
    start = ((R1, ReferralStatus.REFERRED), (R1, ReferralStatus.REJECTED), (R2, ReferralStatus.REFERRED))
    case = given(opened(), *news_in((*start, *order)))

    assert case.referral_status is ReferralStatus.NOT_MADE
    assert case.referral_id == R2  # the last referral there was


def test_news_of_one_referral_in_its_own_order_is_kept_as_it_comes():
    case = given(opened(), *news_in(((R1, ReferralStatus.REFERRED), (R1, ReferralStatus.ACKNOWLEDGED))))
    assert (case.referral_status, case.referral_id) == (ReferralStatus.ACKNOWLEDGED, R1)

    withdrawn = given(opened(), *news_in(((R1, ReferralStatus.ACKNOWLEDGED), (R1, ReferralStatus.WITHDRAWN))))
    assert withdrawn.referral_status is ReferralStatus.WITHDRAWN


def test_a_rejection_not_yet_followed_by_its_onward_referral_shows_as_stalled():
    case = given(opened(), *news_in(((R1, ReferralStatus.REFERRED), (R1, ReferralStatus.REJECTED))))
    assert case.referral_status is ReferralStatus.REJECTED and "referral_stalled" in case.flags
