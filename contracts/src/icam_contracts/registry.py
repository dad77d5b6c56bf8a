"""Every published event class, found by (event type, version); parsing with upcasting."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from icam_contracts import events as ev
from icam_contracts.base import TOLERANT, Event
from icam_contracts.envelope import EventEnvelope
from icam_contracts.topics import TOPICS_BY_NAME
from icam_contracts.upcasting import upcast

EVENT_CLASSES: Final[tuple[type[Event], ...]] = (
    ev.InvitationSent,
    ev.InvitationRescheduled,
    ev.InvitationCancelled,
    ev.InvitationReminderDue,
    ev.InvitationResponseRecorded,
    ev.InvitationNoShowRecorded,
    ev.InvitationHonoured,
    ev.AppointmentRequested,
    ev.AppointmentRequestClosed,
    ev.WalkInRegistered,
    ev.HouseholdMatchDecided,
    ev.CaseOpened,
    ev.CoachAssigned,
    ev.CaseTransferred,
    ev.InterviewHeldV1,
    ev.InterviewHeld,
    ev.DossierElementRequested,
    ev.DossierElementReceived,
    ev.VulnerabilityFlagged,
    ev.ContactLost,
    ev.InvitationAttached,
    ev.NoShowCounted,
    ev.ContactProblemFlagged,
    ev.ReferralProgressNoted,
    ev.HouseholdMemberAdded,
    ev.HouseholdMemberLeft,
    ev.AppointmentChanged,
    ev.DocumentAdded,
    ev.DocumentRemoved,
    ev.DocumentShared,
    ev.OutcomeDecided,
    ev.OutcomeProposed,
    ev.OutcomeApproved,
    ev.OutcomeProposalRejected,
    ev.TrajectorySuspended,
    ev.TrajectoryResumed,
    ev.TrajectoryClosed,
    ev.OutcomeReopened,
    ev.ReferredToReturnPartner,
    ev.ReferralAcknowledged,
    ev.ReferralRejected,
    ev.ReferralWithdrawn,
    ev.ReferralOverdue,
    ev.ReferralNotMade,
    ev.VoluntaryReturnCompleted,
    ev.NotificationSent,
    ev.NotificationFailed,
    ev.PersonalDataErased,
    ev.InvitationDataPurged,
    ev.CaseDataPurged,
    ev.ReferralDataPurged,
    ev.NotificationDataPurged,
    ev.RetentionHoldPlaced,
    ev.RetentionHoldReleased,
)


class UnknownEvent(LookupError):
    """No contract exists for this event type (or version)."""


def _index(classes: tuple[type[Event], ...]) -> dict[tuple[str, int], type[Event]]:
    index: dict[tuple[str, int], type[Event]] = {}
    for cls in classes:
        key = (cls.event_type, cls.event_version)
        if key in index:
            raise ValueError(f"{key} is registered twice")
        if cls.key_field not in cls.model_fields:
            raise ValueError(f"{cls.__name__}.key_field {cls.key_field!r} is not a field")
        if cls.topic not in TOPICS_BY_NAME:
            raise ValueError(f"{cls.__name__}.topic {cls.topic!r} is not in the topic map")
        index[key] = cls
    return index


_BY_TYPE_AND_VERSION: Final = _index(EVENT_CLASSES)
_LATEST: Final[dict[str, type[Event]]] = {}
for _cls in EVENT_CLASSES:
    _current = _LATEST.get(_cls.event_type)
    if _current is None or _cls.event_version > _current.event_version:
        _LATEST[_cls.event_type] = _cls


def event_types() -> tuple[str, ...]:
    """Names of all event types, in catalogue order."""
    return tuple(_LATEST)


def event_class(event_type: str, version: int) -> type[Event]:
    """The model of ``event_type`` at ``version``."""
    try:
        return _BY_TYPE_AND_VERSION[(event_type, version)]
    except KeyError:
        raise UnknownEvent(f"no contract for {event_type} v{version}") from None


def latest(event_type: str) -> type[Event]:
    """The newest model of ``event_type``: the only one handlers should see."""
    try:
        return _LATEST[event_type]
    except KeyError:
        raise UnknownEvent(f"no contract for {event_type}") from None


def topic_of(event_type: str) -> str:
    """The topic ``event_type`` is published on."""
    return latest(event_type).topic


def events_on(topic: str) -> tuple[type[Event], ...]:
    """Every event class (all versions) published on ``topic``."""
    return tuple(cls for cls in EVENT_CLASSES if cls.topic == topic)


def parse(event_type: str, version: int, payload: Mapping[str, Any]) -> Event:
    """Upcast ``payload`` from ``version`` to the latest version, then validate it tolerantly.

    Unknown fields are ignored (a producer may have added optional fields); the result is always
    an instance of ``latest(event_type)``.
    """
    model = latest(event_type)
    event_class(event_type, version)  # an unknown version fails here, before any upcasting
    final_version, data = upcast(event_type, version, dict(payload))
    if final_version != model.event_version:
        raise UnknownEvent(f"no upcaster chain from {event_type} v{version} to v{model.event_version}")
    return model.model_validate(data, context=TOLERANT)


def parse_envelope(envelope: EventEnvelope) -> Event:
    """The latest-version model of the event in ``envelope``."""
    return parse(envelope.event_type, envelope.event_version, envelope.data)
