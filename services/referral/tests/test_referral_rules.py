"""The referral aggregate: given events, when a command, then events or a refusal."""

from collections.abc import Callable
from datetime import date, datetime
from uuid import uuid4

import pytest

from icam_contracts.base import Event
from icam_contracts.enums import ReferralNotMadeReason, ReferralWithdrawalReason, VulnerabilityCategory
from icam_contracts.events import (
    ReferralAcknowledged,
    ReferralNotMade,
    ReferralOverdue,
    ReferralRejected,
    ReferralWithdrawn,
    ReferredToReturnPartner,
    VoluntaryReturnCompleted,
)
from icam_referral import domain
from icam_referral.domain import Household, Referral, ReferralStatus
from icam_referral.domain.partners import PartnerCatalogue
from icam_referral.domain.working_days import BRUSSELS, WorkingCalendar

pytestmark = pytest.mark.unit

CONSENT_AT = datetime(2026, 3, 18, 15, 10, tzinfo=BRUSSELS)


@pytest.fixture
def referred(
    make_household: Callable[..., Household], catalogue: PartnerCatalogue, calendar: WorkingCalendar
) -> ReferredToReturnPartner:
    event = domain.decide_referral(
        household=make_household(),
        decision_id=uuid4(),
        consent=True,
        preferred_partner=None,
        consent_recorded_at=CONSENT_AT,
        referral_id=uuid4(),
        catalogue=catalogue,
        calendar=calendar,
    )
    assert isinstance(event, ReferredToReturnPartner)
    return event


def given(*events: Event) -> Referral:
    first = events[0]
    assert isinstance(first, ReferredToReturnPartner)
    return domain.fold(first.referral_id, events)


def test_a_consented_return_is_referred_to_the_chosen_partner_with_a_working_day_deadline(
    referred: ReferredToReturnPartner,
) -> None:
    assert referred.partner == "fedasil"
    assert referred.acknowledge_by == datetime(2026, 3, 25, 17, 0, tzinfo=BRUSSELS)
    assert referred.region == "brussels"
    assert referred.attempt == 1
    assert referred.selection_reason and "voluntary_return_programme" in referred.selection_reason


def test_without_consent_no_referral_is_made_and_the_case_is_told_why(
    make_household: Callable[..., Household], catalogue: PartnerCatalogue, calendar: WorkingCalendar
) -> None:
    for consent in (False, None):
        event = domain.decide_referral(
            household=make_household(),
            decision_id=uuid4(),
            consent=consent,
            preferred_partner="iom",
            consent_recorded_at=CONSENT_AT,
            referral_id=uuid4(),
            catalogue=catalogue,
            calendar=calendar,
        )
        assert isinstance(event, ReferralNotMade)
        assert event.reason is ReferralNotMadeReason.NO_CONSENT
        assert event.partner == "iom"


def test_no_suitable_partner_means_no_referral(
    make_household: Callable[..., Household], calendar: WorkingCalendar
) -> None:
    event = domain.decide_referral(
        household=make_household(),
        decision_id=uuid4(),
        consent=True,
        preferred_partner=None,
        consent_recorded_at=CONSENT_AT,
        referral_id=uuid4(),
        catalogue=PartnerCatalogue([]),
        calendar=calendar,
    )
    assert isinstance(event, ReferralNotMade)
    assert event.reason is ReferralNotMadeReason.NO_PARTNER_AVAILABLE


def test_the_referral_carries_only_return_relevant_vulnerabilities(
    make_household: Callable[..., Household], catalogue: PartnerCatalogue, calendar: WorkingCalendar
) -> None:
    home = make_household()
    first = home.members[0].model_copy(
        update={
            "vulnerabilities": (VulnerabilityCategory.PREGNANCY, VulnerabilityCategory.VICTIM_OF_TRAFFICKING)
        }
    )
    home = Household(home.case_id, home.household_id, home.region, home.language, (first, *home.members[1:]))
    event = domain.decide_referral(
        household=home,
        decision_id=uuid4(),
        consent=True,
        preferred_partner=None,
        consent_recorded_at=CONSENT_AT,
        referral_id=uuid4(),
        catalogue=catalogue,
        calendar=calendar,
    )
    assert isinstance(event, ReferredToReturnPartner)
    assert event.members[0].vulnerabilities == (VulnerabilityCategory.PREGNANCY,)
    assert event.members[0].contact == first.contact


def test_a_partner_acknowledges_a_referral_once(referred: ReferredToReturnPartner) -> None:
    [event] = domain.acknowledge(given(referred), partner_reference="FED-1")
    assert isinstance(event, ReferralAcknowledged) and event.partner == "fedasil"
    with pytest.raises(domain.AlreadyAcknowledged):
        domain.acknowledge(given(referred, event), partner_reference=None)


def test_a_rejection_goes_to_the_next_suitable_partner(
    referred: ReferredToReturnPartner, catalogue: PartnerCatalogue, calendar: WorkingCalendar
) -> None:
    [rejected] = domain.reject(given(referred), reason="destination outside the programme")
    assert isinstance(rejected, ReferralRejected)
    state = given(referred, rejected)
    assert state.status is ReferralStatus.REJECTED
    now = datetime(2026, 3, 20, 10, 0, tzinfo=BRUSSELS)
    onward = domain.refer_onward(
        state, new_referral_id=uuid4(), now=now, catalogue=catalogue, calendar=calendar
    )
    assert isinstance(onward, ReferredToReturnPartner)
    assert onward.partner == "iom"
    assert onward.attempt == 2
    assert onward.declined_by == ("fedasil",)
    assert onward.previous_referral_id == referred.referral_id
    assert onward.decision_id == referred.decision_id
    assert onward.acknowledge_by == datetime(2026, 3, 27, 17, 0, tzinfo=BRUSSELS)


def test_when_every_partner_declined_the_case_goes_back_to_the_coach(
    referred: ReferredToReturnPartner, catalogue: PartnerCatalogue, calendar: WorkingCalendar
) -> None:
    now = datetime(2026, 3, 20, 10, 0, tzinfo=BRUSSELS)
    current: Event = referred
    history: list[Event] = [referred]
    while isinstance(current, ReferredToReturnPartner):
        history = [current]
        rejected = domain.reject(given(*history), reason="no capacity")
        state = given(*history, *rejected)
        current = domain.refer_onward(
            state, new_referral_id=uuid4(), now=now, catalogue=catalogue, calendar=calendar
        )
    assert isinstance(current, ReferralNotMade)
    assert current.reason is ReferralNotMadeReason.NONE_LEFT
    assert current.declined_by == ("fedasil", "iom", "caritas_international")
    assert current.decision_id == referred.decision_id


def test_a_departure_is_recorded_after_acknowledgement(referred: ReferredToReturnPartner) -> None:
    acknowledged = domain.acknowledge(given(referred), partner_reference=None)
    [done] = domain.record_departure(
        given(referred, *acknowledged),
        departed_on=date(2026, 4, 20),
        destination_country="MA",
        reintegration_support=True,
        person_ids=None,
        today=date(2026, 4, 21),
    )
    assert isinstance(done, VoluntaryReturnCompleted)
    assert done.person_ids == ("8123456", "8123457")
    assert given(referred, *acknowledged, done).status is ReferralStatus.DEPARTED


def test_a_departure_needs_an_acknowledged_referral(referred: ReferredToReturnPartner) -> None:
    with pytest.raises(domain.NotAcknowledged):
        domain.record_departure(
            given(referred),
            departed_on=date(2026, 4, 20),
            destination_country="MA",
            reintegration_support=False,
            person_ids=None,
            today=date(2026, 4, 21),
        )


@pytest.mark.parametrize(
    ("departed_on", "person_ids", "field"),
    [(date(2026, 4, 22), None, "departed_on"), (date(2026, 4, 20), ["9999999"], "person_ids")],
)
def test_a_departure_in_the_future_or_of_strangers_is_refused(
    referred: ReferredToReturnPartner, departed_on: date, person_ids: list[str] | None, field: str
) -> None:
    acknowledged = domain.acknowledge(given(referred), partner_reference=None)
    with pytest.raises(domain.InvalidDeparture) as refused:
        domain.record_departure(
            given(referred, *acknowledged),
            departed_on=departed_on,
            destination_country="MA",
            reintegration_support=False,
            person_ids=person_ids,
            today=date(2026, 4, 21),
        )
    assert refused.value.details["field"] == field


def test_a_withdrawn_referral_takes_no_further_action(referred: ReferredToReturnPartner) -> None:
    [withdrawn] = domain.withdraw(
        given(referred), reason=ReferralWithdrawalReason.PERSON_CHANGED_MIND, reason_text=None
    )
    assert isinstance(withdrawn, ReferralWithdrawn)
    state = given(referred, withdrawn)
    for command in (
        lambda: domain.acknowledge(state, partner_reference=None),
        lambda: domain.reject(state, reason="x"),
        lambda: domain.withdraw(state, reason=ReferralWithdrawalReason.OTHER, reason_text="x"),
    ):
        with pytest.raises(domain.ReferralClosed):
            command()


def test_an_unknown_referral_cannot_be_acknowledged() -> None:
    with pytest.raises(domain.ReferralClosed):
        domain.acknowledge(Referral(referral_id=uuid4()), partner_reference=None)


def test_an_unacknowledged_referral_becomes_overdue_once_after_its_deadline(
    referred: ReferredToReturnPartner,
) -> None:
    before = datetime(2026, 3, 25, 16, 59, tzinfo=BRUSSELS)
    after = datetime(2026, 3, 25, 17, 0, tzinfo=BRUSSELS)
    assert domain.mark_overdue(given(referred), now=before) == []
    [overdue] = domain.mark_overdue(given(referred), now=after)
    assert isinstance(overdue, ReferralOverdue) and overdue.acknowledge_by == referred.acknowledge_by
    assert domain.mark_overdue(given(referred, overdue), now=after) == []


def test_an_acknowledged_referral_never_becomes_overdue(referred: ReferredToReturnPartner) -> None:
    acknowledged = domain.acknowledge(given(referred), partner_reference=None)
    assert (
        domain.mark_overdue(given(referred, *acknowledged), now=datetime(2027, 1, 1, tzinfo=BRUSSELS)) == []
    )
