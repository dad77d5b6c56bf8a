"""Kafka subscribers (through the kernel's idempotent inbox): learn, plan, record intents.

For each event of the invitation, case and referral topics, in the inbox transaction:
remember the contact details it carries, decide which messages it calls for, render them in
the recipient's language, and record one pending notification per (event, recipient, channel).
Nothing is sent here: the dispatcher sends after this transaction committed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

import structlog

from icam_contracts.base import Event
from icam_contracts.enums import Channel, Language, RecipientKind
from icam_contracts.events import InvitationSent, ReferredToReturnPartner
from icam_contracts.reference import ReferenceData
from icam_contracts.registry import latest, topic_of
from icam_kernel.application import Application
from icam_kernel.db import Connection
from icam_kernel.events import RecordedEvent
from icam_kernel.reactions import HandlerTable, Remember
from icam_notification import directory, ledger
from icam_notification.config import Settings
from icam_notification.domain import (
    TRIGGERS,
    MessageKind,
    Notification,
    PlannedMessage,
    Recipient,
    Situation,
    notification_id,
    plan_messages,
    record_unreachable,
)
from icam_notification.messages import ContactInfo, Facts, message_context
from icam_notification.templates import render

log = structlog.get_logger(__name__)


def postal_lines(recipient: Recipient) -> str | None:
    """The address block of a letter, one line per line."""
    a = recipient.postal_address
    if a is None:
        return None
    street = f"{a.street} {a.house_number}" + (f" bte/bus {a.box}" if a.box else "")
    lines = [recipient.name or "", street, f"{a.postal_code} {a.municipality}"]
    if a.country != "BE":
        lines.append(a.country)
    return "\n".join(line for line in lines if line)


def address_for(recipient: Recipient, channel: Channel) -> str | None:
    """Where ``channel`` reaches ``recipient``."""
    if channel is Channel.EMAIL:
        return recipient.email
    if channel is Channel.SMS:
        return recipient.phone
    return postal_lines(recipient)


class Reactions:
    """The subscribers of the notification service."""

    def __init__(
        self, settings: Settings, reference: ReferenceData, application: Application, wake: Callable[[], None]
    ) -> None:
        self.settings = settings
        self.reference = reference
        self.application = application
        self.wake = wake
        self.contact = ContactInfo(settings.atd_email, settings.atd_phone, settings.office_addresses)

    def table(self, topic: str | None = None) -> HandlerTable:
        """The handler table of one topic (or of all): every event that tells the service something
        about a recipient, or calls for a message (invitation sent, reminder, outcome, closure, referral)."""
        relevant = TRIGGERS | directory.LEARNED_FROM
        types = sorted(t for t in relevant if topic is None or topic.endswith(topic_of(t)))
        return HandlerTable(self.application, *(Remember(latest(t), self.notify) for t in types))

    async def notify(self, conn: Connection, event: Event, recorded: RecordedEvent) -> None:
        """Learn from ``event``; record a pending notification for every message it calls for."""
        await directory.learn(conn, event)
        if recorded.event_type not in TRIGGERS:
            return
        facts, situation = await self._situation(conn, event)
        recorded_any = False
        for planned in plan_messages(event, situation):
            recorded_any |= await self._record(conn, recorded, event, planned, facts)
        if recorded_any:
            self.wake()

    async def _situation(self, conn: Connection, event: Event) -> tuple[Facts, Situation]:
        members: tuple[str, ...] = ()
        if isinstance(event, InvitationSent | ReferredToReturnPartner):
            members = tuple(m.person_id for m in event.members)
        household = await directory.load_household(conn, event.household_id, members)
        invitation_id: UUID | None = getattr(event, "invitation_id", None)
        known = await directory.load_invitation(conn, invitation_id) if invitation_id else None
        partner = self._partner(event.partner) if isinstance(event, ReferredToReturnPartner) else None
        told = await conn.fetchval(
            "select exists(select 1 from notifications where household_id = $1 and template = $2)",
            event.household_id,
            MessageKind.CONSEQUENCES.value,
        )
        facts = Facts(
            reference=self.reference,
            contact=self.contact,
            household=household,
            today=datetime.now(UTC).date(),
            invitation=known[0] if known else None,
            partner_name=partner.name if partner else None,
        )
        situation = Situation(
            household=household,
            reference=self.reference,
            partner=partner,
            invitation_channels=known[1] if known else (Channel.POSTAL_LETTER,),
            consequences_told=bool(told),
        )
        return facts, situation

    def _partner(self, code: str) -> Recipient | None:
        contact = self.settings.partner_contacts.get(code, {})
        catalogued = self.reference.partner(code)
        email = contact.get("email") or getattr(catalogued, "email", None)
        if not email:
            log.warning("partner_without_contact_address", partner=code)
        language = contact.get("language")
        return Recipient(
            kind=RecipientKind.RETURN_PARTNER,
            id=code,
            name=catalogued.name if catalogued else code,
            email=email,
            preferred_language=Language(language) if language else None,
        )

    async def _record(
        self, conn: Connection, recorded: RecordedEvent, event: Event, planned: PlannedMessage, facts: Facts
    ) -> bool:
        context = message_context(planned.kind, event, planned.recipient, facts)
        text = render(planned.kind, planned.language, context)
        office = getattr(event, "office", None) or facts.household.office
        recorded_any = False
        for channel in planned.channels or (Channel.POSTAL_LETTER,):
            intent = ledger.Intent(
                notification=self._notification(recorded, event, planned, channel, facts.household.case_id),
                correlation_id=recorded.correlation_id,
                region=facts.household.region,
                office=office,
                address=address_for(planned.recipient, channel),
                reference=context["reference"],
                subject=text.subject,
                body=text.body,
                sms=text.sms,
            )
            if not await ledger.insert_intent(conn, intent):
                continue  # this (trigger, recipient, channel) was already planned
            recorded_any = True
            if not planned.channels:
                await self._unreachable(conn, intent.notification.id)
        return recorded_any

    async def _unreachable(self, conn: Connection, notification: UUID) -> None:
        row = await conn.fetchrow("select * from notifications where notification_id = $1", notification)
        failed = record_unreachable(ledger.to_domain(row))
        await ledger.record(conn, self.application, row, failed)
        log.warning("recipient_unreachable", notification_id=str(notification), template=failed.template)

    def _notification(
        self,
        recorded: RecordedEvent,
        event: Event,
        planned: PlannedMessage,
        channel: Channel,
        household_case: UUID | None,
    ) -> Notification:
        recipient = planned.recipient
        return Notification(
            id=notification_id(recorded.event_id, recipient.kind, recipient.id, channel),
            household_id=event.household_id,
            caused_by_event_id=recorded.event_id,
            recipient_kind=recipient.kind,
            recipient_id=recipient.id,
            channel=channel,
            language=planned.language,
            template=planned.kind.value,
            case_id=getattr(event, "case_id", None) or household_case,
            invitation_id=getattr(event, "invitation_id", None),
            referral_id=getattr(event, "referral_id", None),
        )
