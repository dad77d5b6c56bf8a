"""The case service's parts, wired once in `create_app`: runtime, store, commands, reactions."""

from __future__ import annotations

from functools import cached_property

import asyncpg

from icam_case.codec import ContractUpcaster
from icam_case.commands import CaseCommands
from icam_case.config import MIGRATIONS, SERVICE, CaseSettings
from icam_case.projections import CaseloadProjection, OutcomeStatsProjection
from icam_case.reactions import CaseReactions
from icam_kernel.service import ServiceRuntime
from icam_kernel.store import EventStore


class CaseService:
    """Holds the runtime; the pool exists only once the app's lifespan has started it."""

    def __init__(self, settings: CaseSettings) -> None:
        self.settings = settings
        self.store = EventStore(
            settings.topics.case,
            upcaster=ContractUpcaster(),
            inline_projections=[CaseloadProjection(settings.topics.case), OutcomeStatsProjection()],
        )
        self.runtime = ServiceRuntime(SERVICE, settings.service, migrations_dir=MIGRATIONS, store=self.store)
        self.reactions = CaseReactions(self.store, settings)
        for topic, name in (
            (settings.topics.invitation, "case-from-invitation"),
            (settings.topics.referral, "case-from-referral"),
            (settings.topics.notification, "case-from-notification"),
        ):
            self.runtime.consume(topic, name, self.reactions.handle, group_id=settings.consumer_group)

    @property
    def pool(self) -> asyncpg.Pool:
        assert self.runtime.pool is not None, "the case service has not started"
        return self.runtime.pool

    @cached_property
    def commands(self) -> CaseCommands:
        return CaseCommands(self.pool, self.store, self.settings)
