"""Closed sets of the ICAM domain.

Every enum here appears in published JSON Schemas as an ``enum``. Adding a value is treated as a
breaking change of every event version that uses it (see ``compatibility.py``): a subscriber that
validates against the committed schema, or switches exhaustively, would reject the new value.
Sets that an organisation changes without a law changing (regions, offices, walk-in desks, return
partners, notification templates) are therefore *reference-data codes*, not enums: see
``reference.py``.
"""

from enum import StrEnum


class Outcome(StrEnum):
    """The conclusion a coach communicates in a follow-up interview (outcomes A, B and C)."""

    LEGAL_STAY_POSSIBLE = "legal_stay_possible"
    """A: a stay procedure may succeed; the person applies themselves."""
    RETURN_ACCEPTED = "return_accepted"
    """B: no stay possible; the person is interested in voluntary return."""
    RETURN_REFUSED = "return_refused"
    """C: no stay possible and the person refuses voluntary return; the trajectory closes."""


class ClosureReason(StrEnum):
    """Why an ICAM trajectory was closed. ``other`` requires an explanatory text."""

    RETURN_REFUSED = "return_refused"
    DEPARTED_VOLUNTARILY = "departed_voluntarily"
    STAY_PROCEDURE_STARTED = "stay_procedure_started"
    LOST_CONTACT = "lost_contact"
    TRANSFERRED = "transferred"
    OTHER = "other"


class SuspensionReason(StrEnum):
    """Why a trajectory is put on hold (ICAM FAQ: a new stay procedure, or public-order facts)."""

    STAY_PROCEDURE_STARTED = "stay_procedure_started"
    PUBLIC_ORDER = "public_order"


class EntryChannel(StrEnum):
    """How a person or household first came into contact with ICAM."""

    INVITATION_LETTER = "invitation_letter"
    HELPLINE_EMAIL = "helpline_email"
    HELPLINE_PHONE = "helpline_phone"
    WALK_IN = "walk_in"
    POLICE_INTERCEPTION = "police_interception"
    OPEN_RETURN_PLACE = "open_return_place"


class Language(StrEnum):
    """Language of communication with the person: Belgium's official languages, English fallback."""

    FR = "fr"
    NL = "nl"
    DE = "de"
    EN = "en"


class MemberRole(StrEnum):
    """Place of a person in the coached household."""

    ADULT = "adult"
    MINOR = "minor"


class MemberChange(StrEnum):
    """Why the household's composition changed during the trajectory."""

    BIRTH = "birth"
    JOINED = "joined"
    LEFT = "left"
    DECEASED = "deceased"


class AppointmentChange(StrEnum):
    """What happened to the household's next interview."""

    MOVED = "moved"
    CANCELLED = "cancelled"


class Channel(StrEnum):
    """Channel a message to a person or partner travels on."""

    POSTAL_LETTER = "postal_letter"
    EMAIL = "email"
    SMS = "sms"


class InterviewKind(StrEnum):
    """First (intake) interview, or a follow-up where conclusions are communicated."""

    INTAKE = "intake"
    FOLLOW_UP = "follow_up"


class ActorRole(StrEnum):
    """Role in which an actor caused an event."""

    COACH = "coach"
    TEAM_LEAD = "team_lead"
    HELPLINE_AGENT = "helpline_agent"
    RETURN_PARTNER = "return_partner"
    SYSTEM = "system"


class InvitationResponse(StrEnum):
    """The person's answer to an invitation, before the appointment."""

    CONFIRMED = "confirmed"
    DECLINED = "declined"


class AppointmentRequestResolution(StrEnum):
    """How a request for an appointment (helpline e-mail or phone) was closed."""

    INVITATION_SENT = "invitation_sent"
    ANSWERED_WITHOUT_APPOINTMENT = "answered_without_appointment"
    WITHDRAWN = "withdrawn"
    UNREACHABLE = "unreachable"


class VulnerabilityCategory(StrEnum):
    """Category of vulnerability needing special attention (special-category data: need to know)."""

    UNACCOMPANIED_MINOR = "unaccompanied_minor"
    PREGNANCY = "pregnancy"
    SERIOUS_ILLNESS = "serious_illness"
    DISABILITY = "disability"
    MENTAL_HEALTH = "mental_health"
    VICTIM_OF_TRAFFICKING = "victim_of_trafficking"
    VICTIM_OF_VIOLENCE = "victim_of_violence"
    ELDERLY = "elderly"
    SINGLE_PARENT = "single_parent"
    OTHER = "other"


class DossierElementKind(StrEnum):
    """Kind of element missing from, or added to, the person's administrative file."""

    IDENTITY_DOCUMENT = "identity_document"
    TRAVEL_DOCUMENT = "travel_document"
    BIRTH_CERTIFICATE = "birth_certificate"
    MARRIAGE_CERTIFICATE = "marriage_certificate"
    PROOF_OF_ADDRESS = "proof_of_address"
    MEDICAL_CERTIFICATE = "medical_certificate"
    SCHOOL_CERTIFICATE = "school_certificate"
    PROOF_OF_PROCEDURE = "proof_of_procedure"
    OTHER = "other"


class DocumentKind(StrEnum):
    """What a document kept on the file is (its content type is checked from its bytes)."""

    IDENTITY_DOCUMENT = "identity_document"
    TRAVEL_DOCUMENT = "travel_document"
    BIRTH_CERTIFICATE = "birth_certificate"
    MARRIAGE_CERTIFICATE = "marriage_certificate"
    PROOF_OF_ADDRESS = "proof_of_address"
    MEDICAL_CERTIFICATE = "medical_certificate"
    SCHOOL_CERTIFICATE = "school_certificate"
    PROOF_OF_PROCEDURE = "proof_of_procedure"
    DECISION = "decision"
    SIGNED_CONSENT = "signed_consent"
    OTHER = "other"


class ReferralWithdrawalReason(StrEnum):
    """Why a referral to a return partner was withdrawn before departure."""

    PERSON_CHANGED_MIND = "person_changed_mind"
    STAY_PROCEDURE_STARTED = "stay_procedure_started"
    CONTACT_LOST = "contact_lost"
    OUTCOME_REVISED = "outcome_revised"
    OTHER = "other"


class ReferralNotMadeReason(StrEnum):
    """Why a return-accepted outcome did not lead to a referral."""

    NO_CONSENT = "no_consent"
    NO_PARTNER_AVAILABLE = "no_partner_available"
    NONE_LEFT = "none_left"
    """Every suitable partner declined the referral: the case goes back to the coach."""


class RecipientKind(StrEnum):
    """Who a notification was addressed to."""

    PERSON = "person"
    RETURN_PARTNER = "return_partner"
    COACH = "coach"


class ErasureBasis(StrEnum):
    """Why personal data is erased (GDPR art. 17(1), and the platform's retention)."""

    PURPOSE_ENDED = "purpose_ended"
    """17(1)(a): no longer necessary for the purposes it was collected for."""
    CONSENT_WITHDRAWN = "consent_withdrawn"
    """17(1)(b)."""
    OBJECTION = "objection"
    """17(1)(c): the person objected and no overriding legitimate ground remains."""
    UNLAWFUL_PROCESSING = "unlawful_processing"
    """17(1)(d)."""
    LEGAL_OBLIGATION = "legal_obligation"
    """17(1)(e): a court order or a law requires it."""
    RETENTION_ELAPSED = "retention_elapsed"
    """The retention period after closure (or after an unanswered invitation) has passed."""
