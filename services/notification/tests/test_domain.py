"""The pure domain: language, channels, triggers → messages, the notification aggregate."""

from __future__ import annotations

import uuid
from datetime import timedelta

import notification_samples as s
import pytest

from icam_contracts.enums import Channel, Language, RecipientKind
from icam_contracts.reference import DEFAULT_REFERENCE_DATA as REF
from icam_notification.domain import (
    AlreadyFinal,
    MessageKind,
    Notification,
    Recipient,
    RetryPolicy,
    Situation,
    Status,
    choose_language,
    evolve,
    next_fallback,
    notification_id,
    plan_channels,
    plan_messages,
    record_delivery,
    record_failure,
)

pytestmark = pytest.mark.unit


def situation(*members, region: str = "brussels", **extra) -> Situation:
    return Situation(household=s.household(*members, region=region), reference=REF, **extra)


def test_the_persons_preferred_language_comes_first():
    assert choose_language(Language.DE, REF.region("antwerp_limburg"), "2000") is Language.DE


def test_without_a_preference_the_official_language_of_the_region_is_used():
    assert choose_language(None, REF.region("antwerp_limburg"), "2000") is Language.NL
    assert choose_language(None, REF.region("brussels"), "1000") is Language.FR
    assert choose_language(None, REF.region("namur_luxembourg"), "5000") is Language.FR


def test_the_german_speaking_community_is_written_to_in_german():
    assert choose_language(None, REF.region("liege"), "4700") is Language.DE
    assert choose_language(None, REF.region("liege"), "4000") is Language.FR


def test_english_is_the_fallback_when_nothing_is_known():
    assert choose_language(None, None, None) is Language.EN
    assert choose_language("ar", None, None) is Language.EN


def test_a_requested_channel_the_person_cannot_be_reached_on_falls_back_to_the_first_reachable():
    no_email = Recipient.from_personal_data(s.person(email=None))
    assert plan_channels(no_email, (Channel.EMAIL,)) == (Channel.SMS,)


def test_formal_letters_add_a_postal_letter_when_an_address_is_known():
    amina = Recipient.from_personal_data(s.person())
    assert plan_channels(amina, (Channel.EMAIL,), with_letter=True) == (Channel.EMAIL, Channel.POSTAL_LETTER)


def test_nobody_reachable_means_no_channel():
    ghost = Recipient.from_personal_data(s.person(email=None, phone=None, postal_code=None))
    assert plan_channels(ghost, (Channel.EMAIL,), with_letter=True) == ()


def test_after_a_permanent_failure_the_next_untried_channel_is_chosen():
    amina = Recipient.from_personal_data(s.person())
    assert next_fallback(amina, {Channel.EMAIL}) is Channel.SMS
    assert next_fallback(amina, {Channel.EMAIL, Channel.SMS, Channel.POSTAL_LETTER}) is None


def test_an_invitation_goes_to_each_adult_by_email_and_by_letter_in_their_language():
    family = (s.person(language="nl"), s.person("8123457", minor=True), s.person("8123458", language=None))
    planned = plan_messages(s.invitation_sent(*family), situation(*family))
    assert [(p.recipient.id, p.language, p.channels) for p in planned] == [
        ("8123456", Language.NL, (Channel.EMAIL, Channel.POSTAL_LETTER)),
        ("8123458", Language.FR, (Channel.EMAIL, Channel.POSTAL_LETTER)),
    ]
    assert {p.kind for p in planned} == {MessageKind.INVITATION}


def test_a_reminder_uses_the_channels_it_asks_for_without_a_letter():
    (planned,) = plan_messages(s.reminder(), situation())
    assert planned.kind is MessageKind.REMINDER and planned.channels == (Channel.SMS,)


@pytest.mark.parametrize(
    ("outcome", "kind"),
    [
        ("legal_stay_possible", MessageKind.OUTCOME_STAY_POSSIBLE),
        ("return_accepted", MessageKind.OUTCOME_RETURN_ACCEPTED),
        ("return_refused", MessageKind.CONSEQUENCES),
    ],
)
def test_each_outcome_has_its_letter(outcome, kind):
    (planned,) = plan_messages(s.outcome(outcome), situation())
    assert planned.kind is kind and Channel.POSTAL_LETTER in planned.channels


def test_a_referral_tells_the_partner_by_email_and_the_person():
    planned = plan_messages(s.referred(), situation(partner=s.PARTNER))
    assert [(p.kind, p.recipient.kind, p.channels) for p in planned] == [
        (MessageKind.REFERRAL_PARTNER, RecipientKind.RETURN_PARTNER, (Channel.EMAIL,)),
        (MessageKind.REFERRAL_PERSON, RecipientKind.PERSON, (Channel.EMAIL, Channel.SMS)),
    ]
    assert planned[0].language is Language.FR


def test_a_closure_after_the_consequences_letter_sends_no_second_letter():
    assert plan_messages(s.closed("return_refused"), situation(consequences_told=True)) == ()
    assert plan_messages(s.closed("departed_voluntarily"), situation()) == ()
    (planned,) = plan_messages(s.closed("lost_contact"), situation())
    assert planned.kind is MessageKind.CLOSURE


def test_the_notification_id_is_the_same_for_the_same_trigger_recipient_and_channel():
    event = uuid.uuid4()
    first = notification_id(event, RecipientKind.PERSON, "8123456", Channel.EMAIL)
    assert first == notification_id(event, RecipientKind.PERSON, "8123456", Channel.EMAIL)
    assert first != notification_id(event, RecipientKind.PERSON, "8123456", Channel.SMS)


def notification() -> Notification:
    return Notification(
        id=uuid.uuid4(),
        household_id=s.HOUSEHOLD,
        caused_by_event_id=uuid.uuid4(),
        recipient_kind=RecipientKind.PERSON,
        recipient_id="8123456",
        channel=Channel.EMAIL,
        language=Language.FR,
        template="invitation_letter",
    )


def test_a_transient_failure_is_retried_until_attempts_run_out():
    policy = RetryPolicy(max_attempts=3)
    failed = record_failure(notification(), error="SMTP 451", permanent=False, attempt=1, policy=policy)
    assert failed.will_retry and evolve(notification(), failed).status is Status.RETRYING
    last = record_failure(notification(), error="SMTP 451", permanent=False, attempt=3, policy=policy)
    assert not last.will_retry and evolve(notification(), last).status is Status.FAILED


def test_a_permanent_failure_is_not_retried():
    failed = record_failure(notification(), error="SMTP 550", permanent=True, attempt=1, policy=RetryPolicy())
    assert not failed.will_retry and failed.language is Language.FR


def test_nothing_more_is_recorded_once_a_notification_was_sent():
    sent = evolve(notification(), record_delivery(notification(), provider_reference="<x@y>"))
    with pytest.raises(AlreadyFinal):
        record_delivery(sent, provider_reference="<x@y>")


def test_backoff_doubles_up_to_its_cap():
    policy = RetryPolicy(first_delay=timedelta(seconds=30), max_delay=timedelta(minutes=2))
    assert [policy.delay(n).total_seconds() for n in (1, 2, 3, 4)] == [30, 60, 120, 120]
