"""Appointment requests from the helpline and visits at walk-in desks."""

from __future__ import annotations

from datetime import time
from uuid import uuid4

import pytest

from icam_contracts.enums import AppointmentRequestResolution, Channel, EntryChannel, Language
from icam_contracts.events.invitation import WalkInOutcome
from icam_invitation.domain import requests
from icam_invitation.domain.calendar import DeskHours
from icam_invitation.domain.desk import Desk, RegisterWalkIn, register_walk_in
from icam_invitation.domain.errors import DeskClosed, InvalidCommand, NotOpen
from icam_invitation.testing import OFFICES, POLICY, adult, at, minor, send_command

pytestmark = pytest.mark.unit
NOW = at("2026-03-04 10:00")  # a Wednesday, desks open
DESK = Desk("liege_fragnee", "liege", DeskHours(weekday=2, opens=time(9), closes=time(12)))


def requested(channel: EntryChannel = EntryChannel.HELPLINE_PHONE) -> requests.AppointmentRequested:
    return requests.request_appointment(
        request_id=uuid4(),
        household_id=uuid4(),
        entry_channel=channel,
        language=Language.NL,
        region=None,
        members=(adult("2000"),),
        subject="wants information",
    )


def test_a_request_comes_from_the_helpline() -> None:
    with pytest.raises(InvalidCommand) as refused:
        requested(EntryChannel.WALK_IN)
    assert refused.value.field == "entry_channel"


def test_a_request_is_answered_with_an_invitation_for_the_same_household() -> None:
    request = requested()
    state = requests.fold([request])
    sent, closed = requests.invite(
        state, send_command(at("2026-03-11 10:00"), members=()), POLICY, OFFICES, NOW
    )
    assert sent.household_id == request.household_id
    assert sent.request_id == request.request_id
    assert sent.entry_channel is EntryChannel.HELPLINE_PHONE
    assert (sent.office, sent.language) == ("antwerp", Language.NL)
    assert closed.resolution is AppointmentRequestResolution.INVITATION_SENT
    assert closed.invitation_id == sent.invitation_id


def test_a_request_is_closed_with_a_reason_once() -> None:
    state = requests.fold([requested()])
    closed = requests.close(
        state, resolution=AppointmentRequestResolution.UNREACHABLE, reason="no answer 3 times"
    )
    with pytest.raises(NotOpen):
        requests.close(
            requests.fold([requested(), closed]),
            resolution=AppointmentRequestResolution.WITHDRAWN,
            reason="again",
        )


def test_closing_a_request_needs_a_reason_and_not_the_invitation_resolution() -> None:
    state = requests.fold([requested()])
    with pytest.raises(InvalidCommand):
        requests.close(state, resolution=AppointmentRequestResolution.WITHDRAWN, reason="")
    with pytest.raises(InvalidCommand):
        requests.close(state, resolution=AppointmentRequestResolution.INVITATION_SENT, reason="x")


def walk_in(outcome: WalkInOutcome, **overrides: object) -> RegisterWalkIn:
    values: dict[str, object] = {
        "visit_id": uuid4(),
        "household_id": uuid4(),
        "members": (adult(None), minor()),
        "outcome": outcome,
        "coach_id": "coach-1",
    }
    values.update(overrides)
    return RegisterWalkIn(**values)  # type: ignore[arg-type]


def test_a_walk_in_during_opening_hours_gets_an_interview_on_the_spot() -> None:
    visit, sent = register_walk_in(DESK, walk_in(WalkInOutcome.INTERVIEW_ON_THE_SPOT), POLICY, OFFICES, NOW)
    assert sent is None
    assert (visit.desk, visit.region, visit.outcome, visit.adults, visit.minors) == (
        "liege_fragnee",
        "liege",
        WalkInOutcome.INTERVIEW_ON_THE_SPOT,
        1,
        1,
    )


def test_a_walk_in_can_leave_with_an_invitation_at_the_desk_office() -> None:
    invitation = send_command(at("2026-03-09 10:00"), channels=(Channel.SMS,), members=())
    visit, sent = register_walk_in(
        DESK, walk_in(WalkInOutcome.INVITATION, invitation=invitation), POLICY, OFFICES, NOW
    )
    assert sent is not None and visit.invitation_id == sent.invitation_id
    assert (sent.office, sent.entry_channel, sent.household_id) == (
        "liege",
        EntryChannel.WALK_IN,
        visit.household_id,
    )


def test_a_walk_in_outside_opening_hours_is_refused_with_the_next_opening() -> None:
    with pytest.raises(DeskClosed) as refused:
        register_walk_in(
            DESK, walk_in(WalkInOutcome.INTERVIEW_ON_THE_SPOT), POLICY, OFFICES, at("2026-03-05 10:00")
        )
    assert refused.value.details["next_opening"] == at("2026-03-11 09:00").isoformat()


def test_the_desk_is_closed_on_a_public_holiday_wednesday() -> None:
    with pytest.raises(DeskClosed) as refused:
        register_walk_in(
            DESK, walk_in(WalkInOutcome.INTERVIEW_ON_THE_SPOT), POLICY, OFFICES, at("2026-11-11 10:00")
        )
    assert refused.value.details["next_opening"] == at("2026-11-18 09:00").isoformat()
