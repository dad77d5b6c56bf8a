"""The case timeline in plain words: every event of the case, its own and those it received.

Sentences name no person and no vulnerability: dossier references and categories stay in the case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

Data = dict[str, Any]

_LANGUAGES: Final = {"fr": "French", "nl": "Dutch", "de": "German", "en": "English"}
_OUTCOMES: Final = {
    "legal_stay_possible": "A — legal stay may be possible",
    "return_accepted": "B — voluntary return accepted",
    "return_refused": "C — voluntary return refused",
}


def _words(code: str | None) -> str:
    return (code or "unknown").replace("_", " ")


def _said(text: str) -> str:
    """Free text as the end of a sentence: one full stop, not two."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _lang(code: str | None) -> str:
    return _LANGUAGES.get(code or "", code or "an unknown language")


def _interview(d: Data) -> str:
    interpreter = ", with an interpreter" if d.get("interpreter_present") else ""
    number = f" #{d['sequence_number']}" if d.get("sequence_number") else ""
    return (
        f"{_words(d['kind']).capitalize()} interview{number} held in {_lang(d['language'])}{interpreter}; "
        f"{len(d['attendees'])} present."
    )


def _decided(d: Data) -> str:
    text = f"Outcome {_OUTCOMES.get(d['outcome'], d['outcome'])}, explained in {_lang(d['communicated_in'])}"
    if d.get("revises_decision_id"):
        text += f", revising the earlier decision ({d.get('revision_reason')})"
    if d["outcome"] == "return_accepted":
        text += "; consent to referral given" if d.get("consent_to_referral") else "; no consent to referral"
    return text + "."


_SENTENCES: Final[dict[str, Callable[[Data], str]]] = {
    "CaseOpened": lambda d: (
        f"Case opened in region {d['region']} ({_words(d['entry_channel'])}) for "
        f"{d['adults']} adult(s) and {d['minors']} minor(s)."
    ),
    "CoachAssigned": lambda d: f"Coach {d['coach_id']} assigned by {d['assigned_by']}.",
    "CaseTransferred": lambda d: (
        f"Case transferred from {d['from_region']} to {d['to_region']} ({d['to_office']})."
    ),
    "InvitationAttached": lambda d: (
        f"Interview planned for {d.get('appointment_at')} (invitation {d['attempt']})."
    ),
    "InterviewHeld": _interview,
    "DossierElementRequested": lambda d: f"Missing from the file and requested: {_words(d['element'])}.",
    "DossierElementReceived": lambda d: f"Received for the file: {_words(d['element'])}.",
    "VulnerabilityFlagged": lambda _: "A household member needs special attention (details: need to know).",
    "NoShowCounted": lambda d: f"Nobody came to the interview ({d['consecutive_no_shows']} in a row).",
    "ContactLost": lambda d: f"Contact lost after {d['missed_appointments']} missed appointment(s).",
    "ContactProblemFlagged": lambda d: f"A message by {_words(d['channel'])} could not be delivered.",
    "OutcomeDecided": _decided,
    "OutcomeProposed": lambda d: (
        f"Outcome {_OUTCOMES.get(d['outcome'], d['outcome'])} proposed, awaiting a team lead's approval."
    ),
    "OutcomeApproved": lambda d: f"Outcome approved by {d['approval']['decided_by']} (four eyes).",
    "OutcomeProposalRejected": lambda d: (
        f"Proposed outcome sent back by {d['approval']['decided_by']}: {_said(d['reason'])}"
    ),
    "HouseholdMemberAdded": lambda d: f"A member joined the household ({_words(d['change'])}).",
    "HouseholdMemberLeft": lambda d: f"A member is no longer part of the household ({_words(d['change'])}).",
    "AppointmentChanged": lambda d: (
        f"Next interview moved to {d['appointment_at']}."
        if d["change"] == "moved"
        else "Next interview cancelled."
    ),
    "DocumentAdded": lambda d: f"Document added to the file: {_words(d['kind'])} ({d['content_type']}).",
    "DocumentRemoved": lambda d: f"Document taken off the file: {d['reason']}.",
    "DocumentShared": lambda d: f"Document shared with return partner {d['partner']} for the referral.",
    "HouseholdMatchDecided": lambda d: (
        "Linked to a household met before." if d["decision"] == "linked" else "Confirmed as a new household."
    ),
    "OutcomeReopened": lambda d: f"The outcome question is open again ({_words(d['reason'])}).",
    "ReferralProgressNoted": lambda d: (
        f"Referral {_words(d['status'])}" + (f" ({d['reason']})." if d.get("reason") else ".")
    ),
    "TrajectorySuspended": lambda d: f"Trajectory suspended: {_words(d['reason'])}.",
    "TrajectoryResumed": lambda d: "Trajectory resumed" + (f": {d['note']}." if d.get("note") else "."),
    "TrajectoryClosed": lambda d: f"Trajectory closed: {_words(d['reason'])}.",
    "InvitationSent": lambda d: (
        f"Invitation {d.get('attempt', 1)} sent in {_lang(d['language'])} "
        f"for {d['appointment_at']} at office {d['office']}."
    ),
    "InvitationRescheduled": lambda d: f"Interview moved to {d['appointment_at']}.",
    "InvitationCancelled": lambda d: f"Invitation cancelled: {d['reason']}.",
    "InvitationReminderDue": lambda d: (
        f"Reminder {d['reminder_number']} of the interview of {d['appointment_at']}."
    ),
    "InvitationResponseRecorded": lambda d: f"The household {d['response']} the invitation.",
    "InvitationNoShowRecorded": lambda d: f"No-show recorded for the appointment of {d['appointment_at']}.",
    "InvitationHonoured": lambda _: "The household came to the interview it was invited to.",
    "AppointmentRequested": lambda d: f"Appointment requested by {_words(d['entry_channel'])}.",
    "AppointmentRequestClosed": lambda d: f"Appointment request dealt with: {_words(d['resolution'])}.",
    "WalkInRegistered": lambda d: f"Walk-in visit at desk {d['desk']}.",
    "ReferredToReturnPartner": lambda d: f"Referred to return partner {d['partner']}.",
    "ReferralAcknowledged": lambda d: f"Return partner {d['partner']} took the referral on.",
    "ReferralRejected": lambda d: f"Return partner {d['partner']} declined the referral: {d['reason']}.",
    "ReferralWithdrawn": lambda d: f"Referral to {d['partner']} withdrawn: {_words(d['reason'])}.",
    "ReferralOverdue": lambda d: f"Return partner {d['partner']} did not acknowledge in time.",
    "ReferralNotMade": lambda d: f"No referral made: {_words(d['reason'])}.",
    "VoluntaryReturnCompleted": lambda d: f"Voluntary return completed on {d['departed_on']}.",
    "NotificationSent": lambda d: (
        f"Message '{_words(d['template'])}' sent by {_words(d['channel'])} in {_lang(d['language'])}."
    ),
    "NotificationFailed": lambda d: (
        f"Message '{_words(d['template'])}' by {_words(d['channel'])} failed: {d['error']}."
    ),
}


def describe(event_type: str, data: Data) -> str:
    """One sentence for the event; an unknown or malformed event still gets a neutral line."""
    sentence = _SENTENCES.get(event_type)
    if sentence is None:
        return f"{event_type}."
    try:
        return sentence(data)
    except (KeyError, TypeError):
        return f"{event_type}."
