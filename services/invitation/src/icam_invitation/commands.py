"""Command handlers: load the stream, check who asks, decide, append - in one transaction.

The household's correlation id is kept in ``households`` (household id -> the correlation id of
its first contact), so every later invitation of the same household continues the same journey.
Timers (reminder, no-show) are written in the same transaction as the events that set them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import asyncpg

from icam_auth import Forbidden, Principal, Role
from icam_contracts import parse
from icam_contracts.base import Event
from icam_contracts.enums import AppointmentRequestResolution, Channel, InvitationResponse
from icam_invitation.config import Settings
from icam_invitation.domain import invitation as inv
from icam_invitation.domain import requests as req
from icam_invitation.domain.desk import RegisterWalkIn, register_walk_in
from icam_invitation.domain.errors import CoachDoubleBooked
from icam_kernel import timers
from icam_kernel.aggregate import load
from icam_kernel.db import Connection
from icam_kernel.errors import NotFound
from icam_kernel.events import Actor, NewEvent, RecordedEvent
from icam_kernel.store import EventStore, Expected, ExpectedVersion

NO_SHOW = "invitation_no_show"
REMINDER = "invitation_reminder"
SYSTEM = Actor(id="icam-invitation", role="system", organisation="immigration_office")


@dataclass(frozen=True)
class Done:
    """Where a command left its stream: returned to the caller as 201/202."""

    stream_id: str
    stream_version: int
    position: int
    household_id: str
    correlation_id: str
    command_id: str


@dataclass(frozen=True)
class Caller:
    """Who sends the command, and the ids that tie it to a journey."""

    principal: Principal
    command_id: str
    correlation_hint: str | None = None

    @property
    def actor(self) -> Actor:
        return Actor(
            self.principal.subject,
            self.principal.role.value,
            self.principal.organisation or "immigration_office",
        )


def authorise_region(principal: Principal, region: str | None) -> None:
    """Coaches and team leads act in their own region only."""
    if region is not None and not principal.works_in(region):
        raise Forbidden(f"{principal.role.value} of region {principal.region} may not act in region {region}")


def coach_to_book(principal: Principal, coach_id: str | None) -> str | None:
    """A coach books only themselves (by default too); a team lead may book any coach, or none."""
    if principal.role is Role.COACH:
        if coach_id not in (None, principal.subject):
            raise Forbidden("a coach may only book themselves; a team lead books other coaches")
        return principal.subject
    return coach_id


def _evolve_with(evolve: Any) -> Any:
    def fold(state: Any, event: RecordedEvent) -> Any:
        return evolve(parse(event.event_type, event.event_version, event.data), state)

    return fold


class Commands:
    """The service's command side, over one pool and event store."""

    def __init__(self, settings: Settings, store: EventStore, pool: Callable[[], asyncpg.Pool]) -> None:
        self.settings, self.store, self._pool = settings, store, pool
        self.offices = settings.offices
        self.desks = settings.desks()

    @property
    def pool(self) -> asyncpg.Pool:
        """The service's pool, opened by the app's lifespan."""
        return self._pool()

    # -- loading -----------------------------------------------------------------------------------
    async def load_invitation(self, conn: Connection, invitation_id: uuid.UUID) -> tuple[inv.Invitation, int]:
        """The invitation's state and version; 404 when it does not exist."""
        state, version = await load(
            self.store, conn, str(invitation_id), inv.Invitation(), _evolve_with(inv.evolve)
        )
        if version == 0:
            raise NotFound("invitation", str(invitation_id))
        return state, version

    async def _load_request(
        self, conn: Connection, request_id: uuid.UUID
    ) -> tuple[req.AppointmentRequest, int]:
        state, version = await load(
            self.store, conn, str(request_id), req.AppointmentRequest(), _evolve_with(req.evolve)
        )
        if version == 0:
            raise NotFound("appointment request", str(request_id))
        return state, version

    # -- writing -----------------------------------------------------------------------------------
    async def _correlation(self, conn: Connection, household_id: uuid.UUID, hint: str | None) -> str:
        """The household's journey id: its first contact's, or a new one (the caller's if given)."""
        await conn.execute(
            "insert into households (household_id, correlation_id) values ($1, $2) on conflict do nothing",
            household_id,
            hint or str(uuid.uuid4()),
        )
        value = await conn.fetchval(
            "select correlation_id from households where household_id = $1", household_id
        )
        return str(value)

    async def _append(
        self,
        conn: Connection,
        event: Event,
        expected: Expected,
        actor: Actor,
        correlation: str,
        causation: str,
    ) -> tuple[int, int]:
        # occurred_at is the service clock's "now" (tests move it); recorded_at stays the store's
        new = NewEvent.from_model(
            event,
            actor=actor,
            correlation_id=correlation,
            causation_id=causation,
            occurred_at=self.settings.clock(),
        )
        try:
            result = await self.store.append(conn, event.key(), [new], expected)
        except asyncpg.ExclusionViolationError:
            raise CoachDoubleBooked(
                "the coach already has an interview at that time", field="coach_id"
            ) from None
        return result.stream_version, result.last_position

    async def _schedule_timers(
        self, conn: Connection, invitation_id: uuid.UUID, appointment_at: datetime
    ) -> None:
        """A no-show check after the slot and its grace period; a reminder before the slot."""
        s = self.settings
        payload = {"invitation_id": str(invitation_id), "appointment_at": appointment_at.isoformat()}
        due = appointment_at + s.policy.slot_duration + s.no_show_grace
        await timers.schedule(
            conn, NO_SHOW, due, payload, timer_id=_timer_id(NO_SHOW, invitation_id, appointment_at)
        )
        remind_at = appointment_at - s.reminder_before
        if s.reminder_before.total_seconds() > 0 and remind_at > s.clock():
            timer_id = _timer_id(REMINDER, invitation_id, appointment_at)
            await timers.schedule(conn, REMINDER, remind_at, payload, timer_id=timer_id)

    async def _cancel_timers(
        self, conn: Connection, invitation_id: uuid.UUID, appointment_at: datetime
    ) -> None:
        for kind in (NO_SHOW, REMINDER):
            await timers.cancel(conn, _timer_id(kind, invitation_id, appointment_at))

    # -- invitations -------------------------------------------------------------------------------
    async def send_invitation(self, command: inv.SendInvitation, caller: Caller) -> Done:
        """Send an invitation (a new stream) and set its timers."""
        command = replace(command, coach_id=coach_to_book(caller.principal, command.coach_id))
        event = inv.send(command, self.settings.policy, self.offices, self.settings.clock())
        authorise_region(caller.principal, event.region)
        async with self.pool.acquire() as conn, conn.transaction():
            correlation = await self._correlation(conn, event.household_id, caller.correlation_hint)
            version, position = await self._append(
                conn, event, ExpectedVersion.NO_STREAM, caller.actor, correlation, caller.command_id
            )
            await self._schedule_timers(conn, event.invitation_id, event.appointment_at)
        return Done(event.key(), version, position, str(event.household_id), correlation, caller.command_id)

    async def _change(self, invitation_id: uuid.UUID, caller: Caller, decide: Any) -> Done:
        """Load an invitation, check the caller may touch it, decide, append, adjust timers."""
        async with self.pool.acquire() as conn, conn.transaction():
            state, version = await self.load_invitation(conn, invitation_id)
            authorise_region(caller.principal, state.region)
            if caller.principal.role is Role.COACH and state.coach_id not in (None, caller.principal.subject):
                raise Forbidden("a coach acts only on their own invitations")
            event = decide(state)
            correlation = await self._correlation(conn, state.household_id, caller.correlation_hint)
            new_version, position = await self._append(
                conn, event, version, caller.actor, correlation, caller.command_id
            )
            moved = getattr(event, "appointment_at", None)
            if state.appointment_at is not None and (
                moved is not None or not inv.evolve(event, state).is_open
            ):
                await self._cancel_timers(conn, invitation_id, state.appointment_at)
            if moved is not None:
                await self._schedule_timers(conn, invitation_id, moved)
        return Done(
            str(invitation_id), new_version, position, str(state.household_id), correlation, caller.command_id
        )

    async def reschedule(
        self,
        invitation_id: uuid.UUID,
        caller: Caller,
        *,
        appointment_at: datetime,
        requested_by_person: bool,
        reason: str | None,
    ) -> Done:
        """Move the interview to another slot (counted, limited)."""
        now = self.settings.clock()
        return await self._change(
            invitation_id,
            caller,
            lambda state: inv.reschedule(
                state,
                appointment_at=appointment_at,
                requested_by_person=requested_by_person,
                reason=reason,
                policy=self.settings.policy,
                now=now,
            ),
        )

    async def cancel(self, invitation_id: uuid.UUID, caller: Caller, *, reason: str) -> Done:
        """Withdraw the invitation; its slot and timers are released."""
        return await self._change(invitation_id, caller, lambda state: inv.cancel(state, reason=reason))

    async def respond(
        self, invitation_id: uuid.UUID, caller: Caller, *, response: InvitationResponse, via: Channel | None
    ) -> Done:
        """Record the person's confirmation or refusal."""
        now = self.settings.clock()
        return await self._change(
            invitation_id,
            caller,
            lambda state: inv.record_response(state, response=response, via=via, now=now),
        )

    # -- appointment requests ----------------------------------------------------------------------
    async def request_appointment(self, event: req.AppointmentRequested, caller: Caller) -> Done:
        """Record a helpline request (a new stream)."""
        authorise_region(caller.principal, event.region)
        async with self.pool.acquire() as conn, conn.transaction():
            correlation = await self._correlation(conn, event.household_id, caller.correlation_hint)
            version, position = await self._append(
                conn, event, ExpectedVersion.NO_STREAM, caller.actor, correlation, caller.command_id
            )
        return Done(event.key(), version, position, str(event.household_id), correlation, caller.command_id)

    async def invite_from_request(
        self, request_id: uuid.UUID, command: inv.SendInvitation, caller: Caller
    ) -> Done:
        """Answer a request with an invitation; both streams change in one transaction."""
        command = replace(command, coach_id=coach_to_book(caller.principal, command.coach_id))
        async with self.pool.acquire() as conn, conn.transaction():
            state, version = await self._load_request(conn, request_id)
            sent, closed = req.invite(
                state, command, self.settings.policy, self.offices, self.settings.clock()
            )
            authorise_region(caller.principal, sent.region)
            correlation = await self._correlation(conn, sent.household_id, caller.correlation_hint)
            await self._append(conn, closed, version, caller.actor, correlation, caller.command_id)
            new_version, position = await self._append(
                conn, sent, ExpectedVersion.NO_STREAM, caller.actor, correlation, caller.command_id
            )
            await self._schedule_timers(conn, sent.invitation_id, sent.appointment_at)
        return Done(sent.key(), new_version, position, str(sent.household_id), correlation, caller.command_id)

    async def close_request(
        self, request_id: uuid.UUID, caller: Caller, *, resolution: AppointmentRequestResolution, reason: str
    ) -> Done:
        """Close a request without an invitation."""
        async with self.pool.acquire() as conn, conn.transaction():
            state, version = await self._load_request(conn, request_id)
            authorise_region(caller.principal, state.region)
            event = req.close(state, resolution=resolution, reason=reason)
            correlation = await self._correlation(conn, event.household_id, caller.correlation_hint)
            new_version, position = await self._append(
                conn, event, version, caller.actor, correlation, caller.command_id
            )
        return Done(
            str(request_id), new_version, position, str(event.household_id), correlation, caller.command_id
        )

    # -- walk-in desks -----------------------------------------------------------------------------
    async def register_walk_in(self, desk_code: str, command: RegisterWalkIn, caller: Caller) -> Done:
        """Register a desk visit (and the invitation it led to, if any)."""
        desk = self.desks.get(desk_code)
        if desk is None:
            raise NotFound("walk-in desk", desk_code)
        authorise_region(caller.principal, self.offices.region_of(desk.office, "desk"))
        command = replace(command, coach_id=coach_to_book(caller.principal, command.coach_id))
        visit, sent = register_walk_in(
            desk, command, self.settings.policy, self.offices, self.settings.clock()
        )
        async with self.pool.acquire() as conn, conn.transaction():
            correlation = await self._correlation(conn, visit.household_id, caller.correlation_hint)
            version, position = await self._append(
                conn, visit, ExpectedVersion.NO_STREAM, caller.actor, correlation, caller.command_id
            )
            if sent is not None:
                await self._append(
                    conn, sent, ExpectedVersion.NO_STREAM, caller.actor, correlation, caller.command_id
                )
                await self._schedule_timers(conn, sent.invitation_id, sent.appointment_at)
        return Done(visit.key(), version, position, str(visit.household_id), correlation, caller.command_id)

    # -- timers and reactions (the system acts) ----------------------------------------------------
    async def when_timer_due(
        self,
        conn: Connection,
        invitation_id: uuid.UUID,
        decide: Any,
        causation: str,
        correlation: str | None = None,
    ) -> None:
        """Apply a system decision to an invitation, if the decision still has something to say; the
        journey's correlation id is the causing event's, else the household's."""
        state, version = await self.load_invitation(conn, invitation_id)
        event = decide(state)
        if event is None:
            return
        correlation = correlation or await self._correlation(conn, state.household_id, None)
        await self._append(conn, event, version, SYSTEM, correlation, causation)

    async def on_no_show_timer(self, conn: Connection, timer: timers.Timer) -> None:
        """The grace period after the slot passed: record a no-show unless the household came."""
        slot = datetime.fromisoformat(timer.payload["appointment_at"])
        await self.when_timer_due(
            conn,
            uuid.UUID(timer.payload["invitation_id"]),
            lambda state: inv.record_no_show(state, for_appointment_at=slot),
            str(timer.id),
        )

    async def on_reminder_timer(self, conn: Connection, timer: timers.Timer) -> None:
        """The reminder time came: emit InvitationReminderDue for the notification service."""
        slot = datetime.fromisoformat(timer.payload["appointment_at"])
        await self.when_timer_due(
            conn,
            uuid.UUID(timer.payload["invitation_id"]),
            lambda state: inv.remind(state, for_appointment_at=slot),
            str(timer.id),
        )


def _timer_id(kind: str, invitation_id: uuid.UUID, appointment_at: datetime) -> uuid.UUID:
    """Deterministic: scheduling twice is harmless, and a moved slot's timers can be cancelled."""
    return uuid.uuid5(invitation_id, f"{kind}:{appointment_at.astimezone(UTC).isoformat()}")
