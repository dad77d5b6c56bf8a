"""Writing referrals: loading a stream, starting a referral, appending, the deadline timer.

`Referrals` holds what every writer needs (store, catalogue, calendar, clock); the partner's HTTP
commands and the Kafka reactions both go through it, so a referral is always started the same
way: its first event, its overdue timer and its decision row are written together.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import structlog

from icam_auth import Forbidden, Principal, Role
from icam_contracts.base import Event
from icam_contracts.enums import ReferralWithdrawalReason
from icam_contracts.events import ReferralNotMade, ReferredToReturnPartner
from icam_contracts.registry import parse
from icam_kernel import timers
from icam_kernel.db import Connection
from icam_kernel.errors import NotFound
from icam_kernel.events import Actor, NewEvent
from icam_kernel.store import AppendResult, EventStore, ExpectedVersion, WrongExpectedVersion
from icam_referral import domain
from icam_referral.config import ReferralSettings
from icam_referral.domain import OPEN, Referral, ReferralStatus

log = structlog.get_logger(__name__)

SYSTEM = Actor(id="icam-referral", role="system", organisation="immigration_office")
OVERDUE_TIMER = "referral_overdue"
_IDS = uuid.UUID("6a0c1f8e-3d2b-4c5a-9e7f-1b2c3d4e5f60")  # namespace of the service's derived ids


def referral_id_for(decision_id: UUID, attempt: int) -> UUID:
    """The id of a decision's `attempt`-th referral: the same on every replica and redelivery."""
    return uuid.uuid5(_IDS, f"referral/{decision_id}/{attempt}")


def overdue_timer_id(referral_id: UUID) -> UUID:
    """The id of a referral's deadline timer, so that scheduling and cancelling are idempotent."""
    return uuid.uuid5(_IDS, f"overdue/{referral_id}")


@dataclass(frozen=True)
class Loaded:
    """A referral as its stream has it, with what the next append needs."""

    state: Referral
    version: int
    correlation_id: str


class Referrals:
    """Loading and writing referrals."""

    def __init__(self, store: EventStore, settings: ReferralSettings) -> None:
        self.store = store
        self.settings = settings

    async def load(self, conn: Connection, referral_id: UUID) -> Loaded:
        """The referral's state; a referral without events is `NEW` at version 0."""
        recorded = await self.store.read_stream(conn, str(referral_id))
        events = [parse(r.event_type, r.event_version, r.data) for r in recorded]
        correlation = recorded[0].correlation_id if recorded else str(referral_id)
        return Loaded(domain.fold(referral_id, events), len(recorded), correlation)

    async def refer(
        self,
        conn: Connection,
        event: ReferredToReturnPartner,
        *,
        actor: Actor,
        correlation: str,
        cause: str,
    ) -> AppendResult:
        """Start a referral stream, its deadline timer, and point its decision at it."""
        result = await self.store.append(
            conn, str(event.referral_id), [_new(event, actor, correlation, cause)], ExpectedVersion.NO_STREAM
        )
        await timers.schedule(
            conn,
            OVERDUE_TIMER,
            event.acknowledge_by,
            {"referral_id": str(event.referral_id)},
            timer_id=overdue_timer_id(event.referral_id),
        )
        await conn.execute(
            "update referral_decisions set referral_id = $2 where decision_id = $1",
            event.decision_id,
            event.referral_id,
        )
        log.info("referred_to_return_partner", referral_id=str(event.referral_id), partner=event.partner)
        return result

    async def not_made(
        self, conn: Connection, event: ReferralNotMade, *, actor: Actor, correlation: str, cause: str
    ) -> AppendResult:
        """Tell the case why no referral was made (the event is keyed, and streamed, by case)."""
        result = await self.store.append(
            conn, event.key(), [_new(event, actor, correlation, cause)], ExpectedVersion.ANY
        )
        await conn.execute(
            "update referral_decisions set referral_id = null, not_made = $2 where decision_id = $1",
            event.decision_id,
            str(event.reason),
        )
        log.info("referral_not_made", case_id=str(event.case_id), reason=str(event.reason))
        return result

    async def append(
        self, conn: Connection, loaded: Loaded, events: Sequence[Event], *, actor: Actor, cause: str
    ) -> AppendResult:
        """Append to an existing referral at the version it was loaded at; stop its timer once answered."""
        new = [_new(e, actor, loaded.correlation_id, cause) for e in events]
        result = await self.store.append(conn, str(loaded.state.referral_id), new, loaded.version)
        if any(e.event_type != "ReferralOverdue" for e in events):
            await timers.cancel(conn, overdue_timer_id(loaded.state.referral_id))
        return result

    async def follow_rejection(
        self, conn: Connection, rejected: Referral, *, actor: Actor, correlation: str, cause: str
    ) -> ReferredToReturnPartner | ReferralNotMade:
        """After a rejection: refer to the next suitable partner, or tell the case none is left."""
        assert rejected.decision_id is not None
        onward = domain.refer_onward(
            rejected,
            new_referral_id=referral_id_for(rejected.decision_id, rejected.attempt + 1),
            now=self.settings.clock(),
            catalogue=self.settings.catalogue,
            calendar=self.settings.calendar,
        )
        if isinstance(onward, ReferredToReturnPartner):
            await self.refer(conn, onward, actor=actor, correlation=correlation, cause=cause)
        else:
            await self.not_made(conn, onward, actor=actor, correlation=correlation, cause=cause)
        return onward

    async def withdraw_open(
        self,
        conn: Connection,
        referral_id: UUID,
        *,
        reason: ReferralWithdrawalReason,
        text: str,
        cause: str,
    ) -> bool:
        """Withdraw the referral if it is still open (the case changed); True when it was."""
        loaded = await self.load(conn, referral_id)
        if loaded.state.status not in OPEN:
            return False
        events = domain.withdraw(loaded.state, reason=reason, reason_text=text)
        await self.append(conn, loaded, events, actor=SYSTEM, cause=cause)
        return True

    async def when_overdue_timer_fires(self, conn: Connection, timer: timers.Timer) -> None:
        """Durable timer: the deadline passed; `ReferralOverdue` unless the partner answered."""
        loaded = await self.load(conn, UUID(timer.payload["referral_id"]))
        events = domain.mark_overdue(loaded.state, now=self.settings.clock())
        if events:
            await self.append(conn, loaded, events, actor=SYSTEM, cause=str(timer.id))
            log.info("referral_overdue", referral_id=str(loaded.state.referral_id))


def authorise(
    principal: Principal, state: Referral, *, coaches_too: bool = False, coach: str | None = None
) -> None:
    """Partners act on their own referrals only (others look non-existent); with `coaches_too`, the
    case's assigned `coach` and team leads of the referral's region may act as well."""
    if state.status is ReferralStatus.NEW:
        raise NotFound("referral", str(state.referral_id))
    if principal.role is Role.RETURN_PARTNER:
        if state.partner is None or not principal.acts_for(state.partner):
            raise NotFound("referral", str(state.referral_id))
        return
    in_region = state.region is not None and principal.works_in(state.region)
    if coaches_too and in_region and principal.role is Role.TEAM_LEAD:
        return
    if coaches_too and in_region and principal.role is Role.COACH and principal.subject == coach:
        return
    raise Forbidden(f"role {principal.role.value} may not do this to this referral")


def check_expected(loaded: Loaded, expected_version: int | None) -> None:
    """A caller that names the version it saw gets 409 when the referral moved on since."""
    if expected_version is not None and expected_version != loaded.version:
        raise WrongExpectedVersion(str(loaded.state.referral_id), expected_version, loaded.version)


def actor_of(principal: Principal) -> Actor:
    """The event actor for an HTTP caller."""
    return Actor(id=principal.subject, role=principal.role.value, organisation=principal.organisation)


def _new(event: Event, actor: Actor, correlation: str, cause: str) -> NewEvent:
    return NewEvent.from_model(event, actor=actor, correlation_id=correlation, causation_id=cause)
