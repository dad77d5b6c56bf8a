"""Command handlers for the partner's actions: load the referral, check who asks, decide, append.

Each runs in one transaction; a concurrent change of the same referral makes the append fail
with `WrongExpectedVersion` (HTTP 409), so two answers to one referral never both count.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID, uuid4

from icam_auth import Principal
from icam_contracts.base import Event
from icam_contracts.enums import ReferralWithdrawalReason
from icam_contracts.events import ReferredToReturnPartner
from icam_referral import domain
from icam_referral.referrals import Loaded, Referrals, actor_of, authorise, check_expected


@dataclass(frozen=True)
class CommandResult:
    """Where a command left the referral, and what followed a rejection, if anything."""

    referral_id: UUID
    stream_version: int
    position: int
    events: tuple[str, ...]
    next_referral_id: UUID | None = None
    referral_not_made: str | None = None


class Pool(Protocol):
    """Where connections come from."""

    def acquire(self) -> Any: ...


Decision = Callable[[domain.Referral], list[Event]]


class PartnerCommands:
    """Acknowledge, reject, record a departure, record a withdrawal."""

    def __init__(self, pool: Pool, referrals: Referrals) -> None:
        self.pool = pool
        self.referrals = referrals

    async def acknowledge(
        self,
        referral_id: UUID,
        principal: Principal,
        *,
        partner_reference: str | None,
        expected_version: int | None,
    ) -> CommandResult:
        """The partner takes the referral on."""
        return await self._run(
            referral_id,
            principal,
            expected_version,
            lambda state: domain.acknowledge(state, partner_reference=partner_reference),
        )

    async def reject(
        self, referral_id: UUID, principal: Principal, *, reason: str, expected_version: int | None
    ) -> CommandResult:
        """The partner declines; the next suitable partner gets a new referral, or the coach is told."""
        return await self._run(
            referral_id,
            principal,
            expected_version,
            lambda state: domain.reject(state, reason=reason),
            onward=True,
        )

    async def record_departure(
        self,
        referral_id: UUID,
        principal: Principal,
        *,
        departed_on: date,
        destination_country: str,
        reintegration_support: bool,
        person_ids: Sequence[str] | None,
        expected_version: int | None,
    ) -> CommandResult:
        """The partner confirms the voluntary return."""
        today = self.referrals.settings.clock().astimezone(self.referrals.settings.calendar.timezone).date()
        return await self._run(
            referral_id,
            principal,
            expected_version,
            lambda state: domain.record_departure(
                state,
                departed_on=departed_on,
                destination_country=destination_country,
                reintegration_support=reintegration_support,
                person_ids=person_ids,
                today=today,
            ),
        )

    async def record_withdrawal(
        self,
        referral_id: UUID,
        principal: Principal,
        *,
        reason: ReferralWithdrawalReason,
        reason_text: str | None,
        expected_version: int | None,
    ) -> CommandResult:
        """The person withdrew (told the partner, or their coach)."""
        return await self._run(
            referral_id,
            principal,
            expected_version,
            lambda state: domain.withdraw(state, reason=reason, reason_text=reason_text),
            coaches_too=True,
        )

    async def _run(
        self,
        referral_id: UUID,
        principal: Principal,
        expected_version: int | None,
        decide: Decision,
        *,
        onward: bool = False,
        coaches_too: bool = False,
    ) -> CommandResult:
        command_id = str(uuid4())
        actor = actor_of(principal)
        async with self.pool.acquire() as conn, conn.transaction():
            loaded: Loaded = await self.referrals.load(conn, referral_id)
            coach = await conn.fetchval(
                "select coach_id from households where case_id = $1", loaded.state.case_id
            )
            authorise(principal, loaded.state, coaches_too=coaches_too, coach=coach)
            check_expected(loaded, expected_version)
            events = decide(loaded.state)
            result = await self.referrals.append(conn, loaded, events, actor=actor, cause=command_id)
            names = tuple(type(e).event_type for e in events)
            if not onward:
                return CommandResult(referral_id, result.stream_version, result.last_position, names)
            rejected = loaded.state
            for event in events:
                rejected = domain.evolve(event, rejected)
            follow = await self.referrals.follow_rejection(
                conn, rejected, actor=actor, correlation=loaded.correlation_id, cause=command_id
            )
        if isinstance(follow, ReferredToReturnPartner):
            return CommandResult(
                referral_id,
                result.stream_version,
                result.last_position,
                names,
                next_referral_id=follow.referral_id,
            )
        return CommandResult(
            referral_id,
            result.stream_version,
            result.last_position,
            names,
            referral_not_made=str(follow.reason),
        )
