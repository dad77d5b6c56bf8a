"""Events of the notification service: one message to one recipient on one channel."""

from __future__ import annotations

from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from icam_contracts.base import CODE_PATTERN, Event
from icam_contracts.enums import Channel, Language, RecipientKind
from icam_contracts.events import _examples as ex
from icam_contracts.personal_data import PERSONAL_TEXT
from icam_contracts.topics import NOTIFICATION_EVENTS

NotificationId = Annotated[UUID, Field(description="The notification.", examples=[ex.NOTIFICATION_ID])]
Template = Annotated[
    str,
    Field(
        pattern=CODE_PATTERN,
        description=(
            "Code of the message template (an open set, e.g. invitation_letter, "
            "invitation_reminder, consequences_letter, referral_notice)."
        ),
        examples=["invitation_letter"],
    ),
]


class NotificationEvent(Event):
    """An event of the notification aggregate, keyed by ``notification_id``."""

    topic: ClassVar[str] = NOTIFICATION_EVENTS
    key_field: ClassVar[str] = "notification_id"

    notification_id: NotificationId
    recipient_kind: RecipientKind = Field(description="Who it is for.", examples=["person"])
    recipient_id: str = Field(
        min_length=1,
        description="Dossier reference of the person, or code of the partner, it is for.",
        examples=[ex.PERSON_ID],
    )
    channel: Channel = Field(description="Channel it travels on.", examples=["postal_letter"])
    language: Language = Field(description="Language it is written in.", examples=["fr"])
    template: Template
    caused_by_event_id: UUID = Field(
        description="The event the message is about (e.g. the InvitationSent).",
        examples=[ex.CAUSING_EVENT_ID],
    )
    case_id: UUID | None = Field(
        default=None, description="The case it concerns, if any.", examples=[ex.CASE_ID]
    )
    invitation_id: UUID | None = Field(
        default=None, description="The invitation it concerns, if any.", examples=[ex.INVITATION_ID]
    )
    referral_id: UUID | None = Field(
        default=None, description="The referral it concerns, if any.", examples=[ex.REFERRAL_ID]
    )


class NotificationSent(NotificationEvent):
    """A message left for its recipient: what, in which language, on which channel.

    Together with the events it is about, this is the record of what the person was told.
    """

    event_type: ClassVar[str] = "NotificationSent"
    event_version: ClassVar[int] = 1

    provider_reference: str | None = Field(
        default=None,
        description="Reference of the postal, e-mail or SMS provider.",
        examples=["bpost-2026-03-04-000123"],
    )


class NotificationFailed(NotificationEvent):
    """A message could not be delivered on its channel."""

    event_type: ClassVar[str] = "NotificationFailed"
    event_version: ClassVar[int] = 1

    error: str = Field(
        json_schema_extra=PERSONAL_TEXT,
        min_length=1,
        description="What went wrong, without personal data.",
        examples=["mailbox unavailable (SMTP 550)"],
    )
    attempt: int = Field(ge=1, description="Which delivery attempt failed.", examples=[3])
    will_retry: bool = Field(description="Whether another attempt is planned.", examples=[False])
