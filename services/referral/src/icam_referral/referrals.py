"""What is kept beside the referral streams, and the ids that make referrals happen once.

* Ids derived from the decision (`referral_id_for`): the same on every replica and redelivery.
* Policies run in the transaction of each append: a referral's deadline timer exists exactly
  while it waits for the partner, and `referral_decisions` says what each decision led to.
* The deadline timer, fired by the kernel's timer worker as a reaction of the system.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from uuid import UUID

import structlog

from icam_contracts.base import Event
from icam_contracts.events import (
    ReferralAcknowledged,
    ReferralNotMade,
    ReferralRejected,
    ReferralWithdrawn,
    ReferredToReturnPartner,
    VoluntaryReturnCompleted,
)
from icam_kernel import timers
from icam_kernel.application import Application, Cause, Plan
from icam_kernel.db import Connection
from icam_referral import domain
from icam_referral.config import ReferralSettings
from icam_referral.domain import REFERRAL, Referral

log = structlog.get_logger(__name__)

OVERDUE_TIMER = "referral_overdue"
NOT_MADE = frozenset({ReferralNotMade.event_type})  # appended to the case's stream, whatever it holds
_IDS = uuid.UUID("6a0c1f8e-3d2b-4c5a-9e7f-1b2c3d4e5f60")  # namespace of the service's derived ids


def referral_id_for(decision_id: UUID, attempt: int) -> UUID:
    """The id of a decision's `attempt`-th referral: the same on every replica and redelivery."""
    return uuid.uuid5(_IDS, f"referral/{decision_id}/{attempt}")


def overdue_timer_id(referral_id: UUID) -> UUID:
    """The id of a referral's deadline timer, so that scheduling and cancelling are idempotent."""
    return uuid.uuid5(_IDS, f"overdue/{referral_id}")


class ReferralLifecycle:
    """Policies and the deadline timer of the referral streams."""

    def __init__(self, application: Application, settings: ReferralSettings) -> None:
        self.application, self.settings = application, settings

    def install(self, runtime_timers: dict[str, timers.TimerHandler]) -> None:
        app = self.application
        app.after(ReferredToReturnPartner.event_type, self.when_referred)
        app.after(ReferralNotMade.event_type, self.when_not_made)
        for answer in (ReferralAcknowledged, ReferralRejected, ReferralWithdrawn, VoluntaryReturnCompleted):
            app.after(answer.event_type, self.when_answered)
        runtime_timers[OVERDUE_TIMER] = self.when_overdue_timer_fires

    async def when_referred(self, conn: Connection, referred: ReferredToReturnPartner) -> None:
        """Start the deadline, and point the decision at its referral."""
        await timers.schedule(
            conn,
            OVERDUE_TIMER,
            referred.acknowledge_by,
            {"referral_id": str(referred.referral_id)},
            timer_id=overdue_timer_id(referred.referral_id),
        )
        await conn.execute(
            "update referral_decisions set referral_id = $2 where decision_id = $1",
            referred.decision_id,
            referred.referral_id,
        )
        log.info(
            "referred_to_return_partner", referral_id=str(referred.referral_id), partner=referred.partner
        )

    async def when_not_made(self, conn: Connection, not_made: ReferralNotMade) -> None:
        await conn.execute(
            "update referral_decisions set referral_id = null, not_made = $2 where decision_id = $1",
            not_made.decision_id,
            str(not_made.reason),
        )
        log.info("referral_not_made", reason=str(not_made.reason))

    async def when_answered(self, conn: Connection, answer: ReferralAcknowledged) -> None:
        """The partner answered (or the referral ended): its deadline no longer runs."""
        await timers.cancel(conn, overdue_timer_id(answer.referral_id))

    def onward(self, rejected: Referral) -> ReferredToReturnPartner | ReferralNotMade:
        """After a rejection: a referral to the next suitable partner, or why none is left."""
        assert rejected.decision_id is not None
        return domain.refer_onward(
            rejected,
            new_referral_id=referral_id_for(rejected.decision_id, rejected.attempt + 1),
            now=self.settings.clock(),
            catalogue=self.settings.catalogue,
            calendar=self.settings.calendar,
        )

    def reject(self, state: Referral, reason: str) -> list[Event]:
        """The partner declines; the next partner gets a new referral (a new stream), or the case
        learns that none is left — in the same transaction."""
        rejection = domain.reject(state, reason=reason)
        rejected = state
        for event in rejection:
            rejected = domain.evolve(event, rejected)
        return [*rejection, self.onward(rejected)]

    async def when_overdue_timer_fires(self, conn: Connection, timer: timers.Timer) -> None:
        """Durable timer: the deadline passed; `ReferralOverdue` unless the partner answered."""
        now = self.settings.clock()
        plan = Plan(timer.payload["referral_id"], lambda state: domain.mark_overdue(state, now=now))
        await self.application.react(conn, REFERRAL, plan, Cause.of_timer(timer.id))


def after_rejection(events: Sequence[Event]) -> dict[str, str | None]:
    """What the response of a rejection says followed it (the next referral, or why none)."""
    onward = next((e for e in events if isinstance(e, ReferredToReturnPartner | ReferralNotMade)), None)
    if isinstance(onward, ReferredToReturnPartner):
        return {"next_referral_id": str(onward.referral_id)}
    if isinstance(onward, ReferralNotMade):
        return {"referral_not_made": str(onward.reason)}
    return {}
