"""Given events / when a command / then events or an error: the Invitation aggregate."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from uuid import uuid4

import pytest

from icam_contracts.enums import Channel, InvitationResponse, Language
from icam_contracts.events.invitation import InvitationSent
from icam_invitation.domain import invitation as inv
from icam_invitation.domain.errors import (
    AddressNotServed,
    InvalidCommand,
    NotOpen,
    RescheduleLimitReached,
    SlotOutsideWorkingHours,
    SlotTooEarly,
)
from icam_invitation.testing import OFFICES, POLICY, adult, at, minor, send_command

pytestmark = pytest.mark.unit
NOW = at("2026-03-02 10:00")  # a Monday
SLOT = at("2026-03-11 10:00")  # the Wednesday after next


def sent(**overrides: object) -> InvitationSent:
    return inv.send(send_command(SLOT, **overrides), POLICY, OFFICES, NOW)


def given(*events: object) -> inv.Invitation:
    return inv.fold(list(events))  # type: ignore[arg-type]


def test_an_invitation_goes_to_the_office_of_the_household_address() -> None:
    event = sent(members=(adult("4000", preferred_language=Language.DE), minor()))
    assert (event.office, event.region, event.language) == ("liege", "liege", Language.DE)
    assert (event.adults, event.minors) == (1, 1)


def test_a_given_office_overrides_the_address() -> None:
    assert sent(office="ghent", members=(adult(None),), channels=(Channel.EMAIL,)).office == "ghent"


def test_an_invitation_without_a_postal_code_is_refused_naming_the_field() -> None:
    with pytest.raises(AddressNotServed) as refused:
        sent(members=(adult(None),), channels=(Channel.EMAIL,))
    assert refused.value.field == "members[0].contact.postal_address.postal_code"


def test_an_invitation_to_a_foreign_address_is_refused_naming_the_country() -> None:
    with pytest.raises(AddressNotServed) as refused:
        sent(members=(adult("75001", country="FR"),))
    assert refused.value.field == "members[0].contact.postal_address.country"


def test_a_postal_invitation_needs_a_postal_address() -> None:
    with pytest.raises(InvalidCommand) as refused:
        sent(members=(adult(None),), office="brussels")
    assert refused.value.field == "channels"


def test_a_household_needs_an_adult() -> None:
    with pytest.raises(InvalidCommand) as refused:
        sent(members=(minor(),))
    assert refused.value.field == "members"


def test_a_postal_invitation_respects_five_working_days_of_notice() -> None:
    with pytest.raises(SlotTooEarly) as refused:
        inv.send(send_command(at("2026-03-06 10:00")), POLICY, OFFICES, NOW)
    assert refused.value.details["earliest_valid_date"] == "2026-03-09"
    assert refused.value.field == "appointment_at"


def test_an_email_invitation_needs_only_two_working_days() -> None:
    event = inv.send(send_command(at("2026-03-04 10:00"), channels=(Channel.EMAIL,)), POLICY, OFFICES, NOW)
    assert event.appointment_at == at("2026-03-04 10:00")


def test_public_holidays_lengthen_the_notice_period() -> None:
    # sent Thursday 16 July 2026: 21 July is a holiday, so 5 working days end on Friday 24 July
    with pytest.raises(SlotTooEarly) as refused:
        inv.send(send_command(at("2026-07-23 10:00")), POLICY, OFFICES, at("2026-07-16 10:00"))
    assert refused.value.details["earliest_valid_date"] == "2026-07-24"


def test_a_slot_in_the_past_is_refused_with_the_earliest_valid_date() -> None:
    with pytest.raises(SlotTooEarly) as refused:
        inv.send(send_command(at("2026-02-20 10:00")), POLICY, OFFICES, NOW)
    assert refused.value.details["earliest_valid_date"] == "2026-03-09"


def test_a_slot_outside_working_hours_is_refused() -> None:
    for start in ("2026-03-11 16:30", "2026-03-11 08:00", "2026-03-14 10:00"):
        with pytest.raises(SlotOutsideWorkingHours):
            inv.send(send_command(at(start)), POLICY, OFFICES, NOW)


def test_working_hours_and_slot_length_are_configurable() -> None:
    policy = replace(POLICY, slot_duration=timedelta(minutes=30))
    assert inv.send(send_command(at("2026-03-11 16:30")), policy, OFFICES, NOW)


def test_a_reschedule_moves_the_appointment_and_counts() -> None:
    state = given(sent())
    moved = inv.reschedule(
        state,
        appointment_at=at("2026-03-12 14:00"),
        requested_by_person=True,
        reason=None,
        policy=POLICY,
        now=NOW,
    )
    assert moved.previous_appointment_at == SLOT
    after = given(sent(), moved)
    assert (after.appointment_at, after.reschedules) == (at("2026-03-12 14:00"), 1)


def test_an_invitation_cannot_be_rescheduled_more_than_the_maximum() -> None:
    first = sent()
    events: list[object] = [first]
    for day in ("2026-03-12", "2026-03-13"):
        events.append(
            inv.reschedule(
                given(*events),
                appointment_at=at(f"{day} 10:00"),
                requested_by_person=False,
                reason=None,
                policy=POLICY,
                now=NOW,
            )
        )
    with pytest.raises(RescheduleLimitReached) as refused:
        inv.reschedule(
            given(*events),
            appointment_at=at("2026-03-16 10:00"),
            requested_by_person=False,
            reason=None,
            policy=POLICY,
            now=NOW,
        )
    assert refused.value.status == 409


def test_a_reschedule_respects_the_notice_period_from_now() -> None:
    with pytest.raises(SlotTooEarly):
        inv.reschedule(
            given(sent()),
            appointment_at=at("2026-03-03 10:00"),
            requested_by_person=True,
            reason=None,
            policy=POLICY,
            now=NOW,
        )


def test_a_cancelled_invitation_cannot_be_rescheduled_or_answered() -> None:
    first = sent()
    state = given(first, inv.cancel(given(first), reason="household moved abroad"))
    assert state.status is inv.Status.CANCELLED
    with pytest.raises(NotOpen):
        inv.reschedule(
            state,
            appointment_at=at("2026-03-12 10:00"),
            requested_by_person=True,
            reason=None,
            policy=POLICY,
            now=NOW,
        )
    with pytest.raises(NotOpen):
        inv.record_response(state, response=InvitationResponse.CONFIRMED, via=None, now=NOW)


def test_a_cancellation_needs_a_reason() -> None:
    with pytest.raises(InvalidCommand) as refused:
        inv.cancel(given(sent()), reason="  ")
    assert refused.value.field == "reason"


def test_the_person_confirms_or_declines_before_the_appointment() -> None:
    first = sent()
    confirmed = inv.record_response(
        given(first), response=InvitationResponse.CONFIRMED, via=Channel.EMAIL, now=NOW
    )
    assert given(first, confirmed).status is inv.Status.CONFIRMED
    with pytest.raises(InvalidCommand):
        inv.record_response(given(first), response=InvitationResponse.DECLINED, via=None, now=SLOT)


def test_a_reschedule_after_a_decline_awaits_a_new_answer() -> None:
    first = sent()
    declined = inv.record_response(given(first), response=InvitationResponse.DECLINED, via=None, now=NOW)
    moved = inv.reschedule(
        given(first, declined),
        appointment_at=at("2026-03-13 10:00"),
        requested_by_person=True,
        reason="school trip",
        policy=POLICY,
        now=NOW,
    )
    assert given(first, declined, moved).status is inv.Status.SENT


def test_a_no_show_is_recorded_when_the_grace_period_passes_without_an_interview() -> None:
    first = sent()
    no_show = inv.record_no_show(given(first), for_appointment_at=SLOT)
    assert no_show is not None and no_show.region == first.region
    assert given(first, no_show).status is inv.Status.NO_SHOW


def test_no_no_show_after_the_interview_was_held_or_the_slot_moved() -> None:
    first = sent()
    honoured = inv.honour(given(first), case_id=uuid4(), interview_id=uuid4())
    assert inv.record_no_show(given(first, honoured), for_appointment_at=SLOT) is None
    assert inv.record_no_show(given(first), for_appointment_at=at("2026-03-10 10:00")) is None


def test_an_interview_held_marks_the_invitation_honoured_once() -> None:
    first = sent()
    honoured = inv.honour(given(first), case_id=uuid4(), interview_id=uuid4())
    assert honoured is not None
    assert inv.honour(given(first, honoured), case_id=uuid4(), interview_id=uuid4()) is None


def test_a_late_interview_record_after_a_no_show_still_honours_the_invitation() -> None:
    first = sent()
    no_show = inv.record_no_show(given(first), for_appointment_at=SLOT)
    assert inv.honour(given(first, no_show), case_id=uuid4(), interview_id=uuid4()) is not None


def test_a_cancelled_invitation_is_not_honoured() -> None:
    first = sent()
    cancelled = inv.cancel(given(first), reason="duplicate")
    assert inv.honour(given(first, cancelled), case_id=uuid4(), interview_id=uuid4()) is None


def test_reminders_are_numbered_and_skip_moved_or_declined_invitations() -> None:
    first = sent()
    reminder = inv.remind(given(first), for_appointment_at=SLOT)
    assert reminder is not None and reminder.reminder_number == 1
    assert inv.remind(given(first, reminder), for_appointment_at=SLOT).reminder_number == 2  # type: ignore[union-attr]
    assert inv.remind(given(first), for_appointment_at=at("2026-03-10 10:00")) is None
    declined = inv.record_response(given(first), response=InvitationResponse.DECLINED, via=None, now=NOW)
    assert inv.remind(given(first, declined), for_appointment_at=SLOT) is None
