"""The invitation's durable timers: a reminder before the slot, a no-show check after it.

Kept beside the stream by policies that run in the transaction of each append (so a timer exists
exactly when the slot does), and fired by the kernel's timer worker as reactions of the system.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from icam_contracts.events.invitation import (
    InvitationCancelled,
    InvitationHonoured,
    InvitationNoShowRecorded,
    InvitationRescheduled,
    InvitationSent,
)
from icam_invitation.config import Settings
from icam_invitation.domain import INVITATION
from icam_invitation.domain import invitation as inv
from icam_kernel import timers
from icam_kernel.application import Application, Cause, Plan
from icam_kernel.db import Connection

NO_SHOW = "invitation_no_show"
REMINDER = "invitation_reminder"


def timer_id(kind: str, invitation_id: uuid.UUID, appointment_at: datetime) -> uuid.UUID:
    """Deterministic: scheduling twice is harmless, and a moved slot's timers can be cancelled."""
    return uuid.uuid5(invitation_id, f"{kind}:{appointment_at.astimezone(UTC).isoformat()}")


class InvitationTimers:
    """The policies that keep the timers, and the handlers that fire them."""

    def __init__(self, application: Application, settings: Settings) -> None:
        self.application, self.settings = application, settings

    def install(self, runtime_timers: dict[str, timers.TimerHandler]) -> None:
        app = self.application
        app.after(InvitationSent.event_type, self.when_sent)
        app.after(InvitationRescheduled.event_type, self.when_rescheduled)
        for closing in (InvitationCancelled, InvitationHonoured, InvitationNoShowRecorded):
            app.after(closing.event_type, self.when_settled)
        runtime_timers[NO_SHOW] = self.on_no_show_timer
        runtime_timers[REMINDER] = self.on_reminder_timer

    async def schedule(self, conn: Connection, invitation_id: uuid.UUID, appointment_at: datetime) -> None:
        s = self.settings
        payload = {"invitation_id": str(invitation_id), "appointment_at": appointment_at.isoformat()}
        due = appointment_at + s.policy.slot_duration + s.no_show_grace
        await timers.schedule(
            conn, NO_SHOW, due, payload, timer_id=timer_id(NO_SHOW, invitation_id, appointment_at)
        )
        remind_at = appointment_at - s.reminder_before
        if s.reminder_before.total_seconds() > 0 and remind_at > s.clock():
            reminder = timer_id(REMINDER, invitation_id, appointment_at)
            await timers.schedule(conn, REMINDER, remind_at, payload, timer_id=reminder)

    async def when_sent(self, conn: Connection, sent: InvitationSent) -> None:
        await self.schedule(conn, sent.invitation_id, sent.appointment_at)

    async def when_rescheduled(self, conn: Connection, moved: InvitationRescheduled) -> None:
        for kind in (NO_SHOW, REMINDER):
            await timers.cancel(conn, timer_id(kind, moved.invitation_id, moved.previous_appointment_at))
        await self.schedule(conn, moved.invitation_id, moved.appointment_at)

    async def when_settled(
        self, conn: Connection, settled: InvitationCancelled | InvitationHonoured | InvitationNoShowRecorded
    ) -> None:
        await timers.cancel_matching(conn, (NO_SHOW, REMINDER), "invitation_id", str(settled.invitation_id))

    async def on_no_show_timer(self, conn: Connection, timer: timers.Timer) -> None:
        """The grace period after the slot passed: record a no-show unless the household came."""
        slot = datetime.fromisoformat(timer.payload["appointment_at"])
        plan = Plan(
            timer.payload["invitation_id"],
            lambda state: _some(inv.record_no_show(state, for_appointment_at=slot)),
        )
        await self.application.react(conn, INVITATION, plan, Cause.of_timer(timer.id))

    async def on_reminder_timer(self, conn: Connection, timer: timers.Timer) -> None:
        """The reminder time came: InvitationReminderDue for the notification service."""
        slot = datetime.fromisoformat(timer.payload["appointment_at"])
        plan = Plan(
            timer.payload["invitation_id"], lambda state: _some(inv.remind(state, for_appointment_at=slot))
        )
        await self.application.react(conn, INVITATION, plan, Cause.of_timer(timer.id))


def _some(event: object | None) -> list:  # type: ignore[type-arg]
    return [event] if event is not None else []
