"""Triggers → messages: which event tells whom what, on which channels, in which language."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Final

from icam_contracts.base import Event
from icam_contracts.enums import Channel, ClosureReason, Language, Outcome
from icam_contracts.events import (
    InvitationCancelled,
    InvitationReminderDue,
    InvitationRescheduled,
    InvitationSent,
    OutcomeDecided,
    ReferredToReturnPartner,
    TrajectoryClosed,
)
from icam_contracts.reference import ReferenceData
from icam_notification.domain.language import FALLBACK, choose_language
from icam_notification.domain.recipients import Household, Recipient, addressees
from icam_notification.domain.routing import plan_channels


class MessageKind(StrEnum):
    """A kind of message; its value is the template code recorded in the events."""

    INVITATION = "invitation_letter"
    REMINDER = "invitation_reminder"
    RESCHEDULE = "reschedule_notice"
    CANCELLATION = "cancellation_notice"
    OUTCOME_STAY_POSSIBLE = "outcome_stay_possible"
    OUTCOME_RETURN_ACCEPTED = "outcome_return_accepted"
    CONSEQUENCES = "consequences_letter"
    REFERRAL_PARTNER = "referral_notice_partner"
    REFERRAL_PERSON = "referral_notice_person"
    CLOSURE = "closure_letter"


OUTCOME_LETTERS: Final = {
    Outcome.LEGAL_STAY_POSSIBLE: MessageKind.OUTCOME_STAY_POSSIBLE,
    Outcome.RETURN_ACCEPTED: MessageKind.OUTCOME_RETURN_ACCEPTED,
    Outcome.RETURN_REFUSED: MessageKind.CONSEQUENCES,
}
# A household that departed has no Belgian address any more; a transferred case is told by the
# office taking it over. Both get no closure letter.
NO_CLOSURE_LETTER: Final = frozenset({ClosureReason.DEPARTED_VOLUNTARILY, ClosureReason.TRANSFERRED})
ELECTRONIC: Final = (Channel.EMAIL, Channel.SMS)


@dataclass(frozen=True)
class PlannedMessage:
    """One message to one recipient, on the channels chosen for them (empty: unreachable)."""

    kind: MessageKind
    recipient: Recipient
    channels: tuple[Channel, ...]
    language: Language


@dataclass(frozen=True)
class Situation:
    """What the planner needs to know besides the event (looked up by the caller)."""

    household: Household
    reference: ReferenceData
    partner: Recipient | None = None
    invitation_channels: tuple[Channel, ...] = (Channel.POSTAL_LETTER,)
    consequences_told: bool = False


def _to_household(
    kind: MessageKind, situation: Situation, requested: tuple[Channel, ...], *, with_letter: bool
) -> tuple[PlannedMessage, ...]:
    region = situation.reference.region(situation.household.region or "")
    return tuple(
        PlannedMessage(
            kind=kind,
            recipient=person,
            channels=plan_channels(person, requested, with_letter=with_letter),
            language=choose_language(person.preferred_language, region, person.postal_code),
        )
        for person in addressees(situation.household.members)
    )


def _invitation(event: InvitationSent, s: Situation) -> tuple[PlannedMessage, ...]:
    # an invitation is always also a letter when an address is known: the paper people keep
    return _to_household(MessageKind.INVITATION, s, event.channels, with_letter=True)


def _reminder(event: InvitationReminderDue, s: Situation) -> tuple[PlannedMessage, ...]:
    return _to_household(MessageKind.REMINDER, s, event.channels, with_letter=False)


def _rescheduled(event: InvitationRescheduled, s: Situation) -> tuple[PlannedMessage, ...]:
    return _to_household(MessageKind.RESCHEDULE, s, s.invitation_channels, with_letter=False)


def _cancelled(event: InvitationCancelled, s: Situation) -> tuple[PlannedMessage, ...]:
    return _to_household(MessageKind.CANCELLATION, s, s.invitation_channels, with_letter=False)


def _outcome(event: OutcomeDecided, s: Situation) -> tuple[PlannedMessage, ...]:
    return _to_household(OUTCOME_LETTERS[event.outcome], s, (Channel.EMAIL,), with_letter=True)


def _referred(event: ReferredToReturnPartner, s: Situation) -> tuple[PlannedMessage, ...]:
    to_person = _to_household(MessageKind.REFERRAL_PERSON, s, ELECTRONIC, with_letter=False)
    if s.partner is None:
        return to_person
    partner = PlannedMessage(
        kind=MessageKind.REFERRAL_PARTNER,
        recipient=s.partner,
        channels=plan_channels(s.partner, (Channel.EMAIL,)),
        language=s.partner.preferred_language or FALLBACK,
    )
    return (partner, *to_person)


def _closed(event: TrajectoryClosed, s: Situation) -> tuple[PlannedMessage, ...]:
    if event.reason in NO_CLOSURE_LETTER:
        return ()
    if event.reason is ClosureReason.RETURN_REFUSED and s.consequences_told:
        return ()  # the consequences letter already said that the trajectory is closed
    return _to_household(MessageKind.CLOSURE, s, (Channel.EMAIL,), with_letter=True)


_PLANNERS: Final[dict[type[Event], Callable[[object, Situation], tuple[PlannedMessage, ...]]]] = {
    InvitationSent: _invitation,  # type: ignore[dict-item]
    InvitationReminderDue: _reminder,  # type: ignore[dict-item]
    InvitationRescheduled: _rescheduled,  # type: ignore[dict-item]
    InvitationCancelled: _cancelled,  # type: ignore[dict-item]
    OutcomeDecided: _outcome,  # type: ignore[dict-item]
    ReferredToReturnPartner: _referred,  # type: ignore[dict-item]
    TrajectoryClosed: _closed,  # type: ignore[dict-item]
}
TRIGGERS: Final = frozenset(cls.event_type for cls in _PLANNERS)


def plan_messages(event: Event, situation: Situation) -> tuple[PlannedMessage, ...]:
    """The messages ``event`` calls for; none for events that tell nobody anything."""
    planner = _PLANNERS.get(type(event))
    return planner(event, situation) if planner else ()
