"""Composition root shared by the services: settings, pool, migrations, broker, relay, timers.

    runtime = ServiceRuntime("case", ServiceSettings.from_env(), migrations_dir=HERE / "migrations",
                             store=EventStore("icam.case.events", inline_projections=[CaseList()]))
    runtime.consume("icam.invitation.events", "case-from-invitations", reactions)  # a HandlerTable
    runtime.timers["no_show"] = record_no_show
    runtime.application.after("TrajectoryClosed", free_household)
    runtime.background("dispatcher", lambda: Dispatcher(runtime.pool).run())
    app = create_service_app(runtime, routers=[router])

`create_service_app` installs what every service shares and none overrides: the command path
(`app.state.application`), the one token verifier, the request guard (sizes, paths), the one
problem+json mapper, the problem responses in the OpenAPI document, health and metrics.
Nothing connects at import time: the app's lifespan starts everything and stops it in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import asyncpg
import structlog
from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaBroker

from icam_auth import AuthSettings, TokenVerifier
from icam_auth.fastapi import install_verifier
from icam_contracts.events import PersonalDataErased
from icam_contracts.events.privacy import _DataPurged
from icam_contracts.topics import PRIVACY_EVENTS
from icam_kernel import idempotency, sealing
from icam_kernel.application import Application, Clock
from icam_kernel.erasure import KERNEL_PURGES, Purge, erasure_row
from icam_kernel.events import Actor
from icam_kernel.guard import Limits, RequestGuard
from icam_kernel.http import health_router, install_problem_handlers
from icam_kernel.inbox import Handler, IdempotentConsumer, RetryPolicy
from icam_kernel.keyring import CachedKeyring, HttpKeyring
from icam_kernel.migrations import apply_migrations
from icam_kernel.observability import configure_logging
from icam_kernel.openapi import document_problems
from icam_kernel.outbox import OutboxRelay
from icam_kernel.projections import ASYNC, INLINE, Projection, ProjectionRunner, register_projection
from icam_kernel.reactions import HandlerTable
from icam_kernel.sealing import Vault
from icam_kernel.store import EventStore
from icam_kernel.timers import TimerHandler, TimerWorker

log = structlog.get_logger(__name__)

BackgroundWork = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ServiceSettings:
    """From the environment: DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ICAM_SERVICE_NAME."""

    service_name: str
    database_url: str
    kafka_bootstrap: str
    pool_size: int = 10
    idempotency_window: timedelta = timedelta(hours=24)
    keyring_url: str = ""  # the privacy service (key custodian); empty: personal data in clear
    service_token: str = ""  # this service's workload token for the key custodian
    key_cache_seconds: float = 60.0
    privacy_topic: str = PRIVACY_EVENTS

    @classmethod
    def from_env(cls, default_name: str = "icam") -> ServiceSettings:
        return cls(
            service_name=os.environ.get("ICAM_SERVICE_NAME", default_name),
            database_url=os.environ["DATABASE_URL"],
            kafka_bootstrap=os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            pool_size=int(os.environ.get("ICAM_DB_POOL_SIZE", "10")),
            idempotency_window=timedelta(hours=float(os.environ.get("ICAM_IDEMPOTENCY_HOURS", "24"))),
            keyring_url=os.environ.get("ICAM_KEYRING_URL", ""),
            service_token=_service_token(),
            key_cache_seconds=float(os.environ.get("ICAM_KEY_CACHE_SECONDS", "60")),
            privacy_topic=os.environ.get("ICAM_PRIVACY_TOPIC")
            or os.environ.get("ICAM_TOPIC_PREFIX", "") + PRIVACY_EVENTS,
        )


def _service_token() -> str:
    """`ICAM_SERVICE_TOKEN`, or the file `ICAM_SERVICE_TOKEN_FILE` names (a projected token)."""
    path = os.environ.get("ICAM_SERVICE_TOKEN_FILE")
    return Path(path).read_text().strip() if path else os.environ.get("ICAM_SERVICE_TOKEN", "")


def vault_of(settings: ServiceSettings) -> Vault | None:
    """The vault that seals with the privacy service's keys, if the service is given one."""
    if not settings.keyring_url:
        return None
    remote = HttpKeyring(settings.keyring_url, settings.service_token)
    return Vault(CachedKeyring(remote, ttl=settings.key_cache_seconds))


@dataclass
class ServiceRuntime:
    """Everything a service runs besides its HTTP routes; `pool` and `relay` exist once started."""

    name: str
    settings: ServiceSettings
    migrations_dir: Path | None
    store: EventStore
    async_projections: Sequence[Projection] = ()
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timers: dict[str, TimerHandler] = field(default_factory=dict)
    timer_retry_delay: timedelta = timedelta(seconds=30)
    clock: Clock | None = None
    seals_personal_data: bool = True  # False for the key custodian itself (it keeps no personal data)
    broker: KafkaBroker = field(init=False)
    application: Application = field(init=False)
    pool: asyncpg.Pool | None = field(init=False, default=None)
    relay: OutboxRelay | None = field(init=False, default=None)
    _consumers: list[IdempotentConsumer] = field(init=False, default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(init=False, default_factory=list)
    _background: dict[str, BackgroundWork] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.broker = KafkaBroker(self.settings.kafka_bootstrap, logger=structlog.get_logger("faststream"))
        system = Actor(id=f"icam-{self.name}", role="system", organisation="immigration_office")
        self.application = Application(
            self.store, self._started_pool, system, clock=self.clock, service=self.name
        )
        self.background("idempotency-purge", self._purge_idempotency_keys)

    def _started_pool(self) -> asyncpg.Pool:
        assert self.pool is not None, "the service has not started"
        return self.pool

    async def _purge_idempotency_keys(self) -> None:
        """Forget idempotency records older than the window, every few minutes."""
        while True:
            try:
                async with self._started_pool().acquire() as conn:
                    await idempotency.purge_expired(conn, self.settings.idempotency_window)
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError) as error:
                log.warning("idempotency_purge_failed", error_type=type(error).__name__)
            await asyncio.sleep(300)

    def consume(
        self,
        topic: str,
        consumer_name: str,
        handler: Handler,
        *,
        event_types: Collection[str] | None = None,
        **options: Any,
    ) -> None:
        """Subscribe `handler(conn, event)` to `topic` through the inbox (pool bound at start);
        with `event_types`, records of other types are passed over without a transaction."""
        pool: Any = _LazyPool(self)  # stands in for the pool until start() opens it
        event_types = event_types if event_types is not None else getattr(handler, "event_types", None)
        consumer = IdempotentConsumer(
            pool,
            consumer_name,
            handler,
            retry=self.retry,
            event_types=event_types,
        )
        consumer.subscribe(self.broker, topic, **options)
        self._consumers.append(consumer)

    def forget_erased(
        self,
        report: type[_DataPurged],
        *purges: Purge,
        forget: Callable[[PersonalDataErased], None] | None = None,
    ) -> None:
        """Follow the privacy topic: on `PersonalDataErased` drop the keys from the cache, run
        `forget` (the service's own caches), purge every store (with the kernel's) and report."""

        def forget_all(erased: PersonalDataErased) -> None:
            vault = self.store.vault
            if vault is not None and isinstance(vault.keyring, CachedKeyring):
                vault.keyring.forget(erased.key_ids)
            if forget is not None:
                forget(erased)

        row = erasure_row(self.name, report, (*purges, *KERNEL_PURGES), forget_all)
        table = HandlerTable(self.application, row)
        self.consume(self.settings.privacy_topic, f"{self.name}-from-privacy", table)

    def background(self, name: str, work: BackgroundWork) -> None:
        """Run `work()` as a task of its own once the service started (pool open, migrations
        applied, broker connected); it is cancelled on shutdown. A task that ends with an error is
        logged (`background_task_failed`), not restarted: loop and retry inside `work`."""
        if name in self._background:
            raise ValueError(f"a background task named {name!r} is already registered")
        self._background[name] = work

    async def start(self) -> None:
        configure_logging()
        if (vault := vault_of(self.settings)) is not None:
            sealing.install(vault)
        elif self.store.vault is None and self.seals_personal_data:
            log.warning("personal_data_in_clear", service=self.name, reason="ICAM_KEYRING_URL is not set")
        self.pool = await asyncpg.create_pool(
            self.settings.database_url, min_size=2, max_size=self.settings.pool_size
        )
        migrations = [self.migrations_dir] if self.migrations_dir else []
        await apply_migrations(self.pool, *migrations)
        async with self.pool.acquire() as conn:
            for projection in self.store.inline_projections:
                await register_projection(conn, projection, INLINE)
            for projection in self.async_projections:
                await register_projection(conn, projection, ASYNC)
        self.relay = OutboxRelay(self.pool, self.store.topic, bootstrap=self.settings.kafka_bootstrap)
        self._spawn(self.relay.run())
        self._spawn(TimerWorker(self.pool, self.timers, retry_delay=self.timer_retry_delay).run())
        for projection in self.async_projections:
            self._spawn(ProjectionRunner(self.pool, self.store, projection).run())
        await self.broker.start()
        for name, work in self._background.items():
            self._spawn(work(), name=name)
        log.info("service_started", service=self.name)

    def _spawn(self, work: Coroutine[Any, Any, None], name: str | None = None) -> None:
        task = asyncio.create_task(work, name=name)
        task.add_done_callback(self._log_failure)
        self._tasks.append(task)

    def _log_failure(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error(
                "background_task_failed",
                service=self.name,
                task=task.get_name(),
                error_type=type(error).__name__,
                error=str(error),
            )

    async def stop(self) -> None:
        await self.broker.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self.pool is not None:
            await self.pool.close()
        log.info("service_stopped", service=self.name)

    async def database_ready(self) -> bool:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return bool(await conn.fetchval("select true"))

    async def broker_ready(self) -> bool:
        return bool(await self.broker.ping(timeout=1.0))

    async def relay_ready(self) -> bool:
        """Healthy while the outbox drains: a backlog older than a minute means it is stuck."""
        assert self.relay is not None
        _, age = await self.relay.backlog()
        return age < 60


class _LazyPool:
    """The pool a consumer uses, resolved when it is first needed (after the lifespan opened it)."""

    def __init__(self, runtime: ServiceRuntime) -> None:
        self.runtime = runtime

    def acquire(self) -> Any:
        assert self.runtime.pool is not None, "the service has not started"
        return self.runtime.pool.acquire()


def create_service_app(
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter] = (),
    *,
    auth: AuthSettings | TokenVerifier | None = None,
    limits: Limits | None = None,
    **fastapi: Any,
) -> FastAPI:
    """A FastAPI app whose lifespan starts and stops the runtime, with everything services share:
    the application (`app.state.application`), the token verifier (`auth`, else the environment),
    the request guard, problem+json for every error (also in the OpenAPI), health, metrics."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        app.state.runtime = runtime
        try:
            yield
        finally:
            await runtime.stop()

    fastapi.setdefault("title", f"ICAM {runtime.name} service")
    app = FastAPI(lifespan=lifespan, **fastapi)
    app.state.application = runtime.application
    install_verifier(app, auth)
    app.add_middleware(RequestGuard, limits=limits or Limits.from_env())
    install_problem_handlers(app)
    document_problems(app)
    checks = {
        "database": runtime.database_ready,
        "broker": runtime.broker_ready,
        "relay": runtime.relay_ready,
    }
    app.include_router(health_router(checks))
    for router in routers:
        app.include_router(router)
    return app
