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
problem+json mapper, the problem responses in the OpenAPI document, health and metrics, and the
audit of direct reads of personal data (`app.state.access_audit`, with `GET /audit/direct` for
auditors when the route table gives the service that row), and traces when an OTLP endpoint is
given (`icam_kernel.tracing`, ADR 0016).
Nothing connects at import time: the app's lifespan starts everything and stops it in reverse.

Every background worker — the outbox relay, the timer worker and its overdue report, each async
projection runner, each consumer's release of parked events, the idempotency purge and the
service's own (`background`) — runs under one `Supervisor`: a failure is logged, counted in
`icam_worker_restarts_total{worker}` and restarted with backoff; consumers report their rewound
batches to it too, and a consumer whose Kafka client stopped for good is started again with a new
one (`client_watch`). `/health/live` fails while a worker is in a crash loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Collection, Coroutine, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import structlog
from fastapi import APIRouter, FastAPI, Query
from faststream.kafka import KafkaBroker

from icam_auth import AuthSettings, TokenVerifier
from icam_auth.fastapi import CurrentPrincipal, install_verifier
from icam_auth.policy import ROUTES
from icam_contracts.events import PersonalDataErased
from icam_contracts.events.privacy import _DataPurged
from icam_contracts.topics import PRIVACY_EVENTS
from icam_kernel import access_audit, db, idempotency, sealing, tracing
from icam_kernel.application import Application, Clock
from icam_kernel.client_watch import Watched, watch_clients
from icam_kernel.erasure import KERNEL_PURGES, Purge, erasure_row
from icam_kernel.events import Actor
from icam_kernel.failures import Backoff
from icam_kernel.guard import Limits, RequestGuard
from icam_kernel.http import health_router, install_problem_handlers
from icam_kernel.http_queries import MAX_OFFSET
from icam_kernel.inbox import Handler, IdempotentConsumer, RetryPolicy
from icam_kernel.inputs import Moment
from icam_kernel.keyring import CachedKeyring, HttpKeyring
from icam_kernel.migrations import apply_migrations
from icam_kernel.observability import configure_logging
from icam_kernel.openapi import document_problems
from icam_kernel.outbox import OutboxRelay
from icam_kernel.parking import keep_releasing
from icam_kernel.projections import ASYNC, INLINE, Projection, ProjectionRunner, register_projection
from icam_kernel.reactions import HandlerTable
from icam_kernel.routing import PolicyRouter
from icam_kernel.sealing import Vault
from icam_kernel.store import DEFAULT_MAX_EVENT_BYTES, EventStore
from icam_kernel.supervision import Policy, Supervisor
from icam_kernel.timers import TimerHandler, TimerWorker

log = structlog.get_logger(__name__)

BackgroundWork = Callable[[], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class ServiceSettings:
    """From the environment: DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS, ICAM_SERVICE_NAME, and the
    limits of issue 18 (docs/configuration.md)."""

    service_name: str
    database_url: str
    kafka_bootstrap: str
    pool_size: int = 10
    idempotency_window: timedelta = timedelta(hours=24)
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    outage_ceiling: float = 240.0  # a consumer waits out an outage this long per record
    command_retry_seconds: float = 5.0  # a command retries a transient failure this long
    worker_backoff_ceiling: float = 30.0
    crash_loop_restarts: int = 5
    # how soon the group notices a consumer that died (kill -9) and gives its partitions to the
    # one that replaced it: a restarted process waits this long for its partitions, once per group
    consumer_session_timeout_ms: int = 10_000
    consumer_lanes: int = 4  # partitions of a fetched batch a consumer handles at once (ADR 0018)
    # put before the group of a consumer whose group is its name (every one not given a group_id,
    # the privacy topic's and the privacy service's included): platforms sharing a broker then
    # never share a group
    consumer_group_prefix: str = ""
    keyring_url: str = ""  # the privacy service (key custodian); empty: personal data in clear
    service_token: str = ""  # this service's workload token for the key custodian
    key_cache_seconds: float = 60.0
    privacy_topic: str = PRIVACY_EVENTS

    @classmethod
    def from_env(cls, default_name: str = "icam") -> ServiceSettings:
        env = os.environ.get
        return cls(
            service_name=env("ICAM_SERVICE_NAME", default_name),
            database_url=os.environ["DATABASE_URL"],
            kafka_bootstrap=env("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"),
            pool_size=int(env("ICAM_DB_POOL_SIZE", "10")),
            idempotency_window=timedelta(hours=float(env("ICAM_IDEMPOTENCY_HOURS", "24"))),
            max_event_bytes=int(env("ICAM_MAX_EVENT_BYTES", str(DEFAULT_MAX_EVENT_BYTES))),
            outage_ceiling=float(env("ICAM_OUTAGE_RETRY_SECONDS", "240")),
            command_retry_seconds=float(env("ICAM_COMMAND_RETRY_SECONDS", "5")),
            worker_backoff_ceiling=float(env("ICAM_WORKER_BACKOFF_SECONDS", "30")),
            crash_loop_restarts=int(env("ICAM_CRASH_LOOP_RESTARTS", "5")),
            consumer_session_timeout_ms=int(env("ICAM_CONSUMER_SESSION_TIMEOUT_MS", "10000")),
            consumer_lanes=max(1, int(env("ICAM_CONSUMER_LANES", "4"))),
            consumer_group_prefix=env("ICAM_CONSUMER_GROUP_PREFIX", ""),
            keyring_url=env("ICAM_KEYRING_URL", ""),
            service_token=_service_token(),
            key_cache_seconds=float(env("ICAM_KEY_CACHE_SECONDS", "60")),
            privacy_topic=env("ICAM_PRIVACY_TOPIC") or env("ICAM_TOPIC_PREFIX", "") + PRIVACY_EVENTS,
        )

    def supervision(self) -> Policy:
        return Policy(Backoff(initial=0.5, ceiling=self.worker_backoff_ceiling), self.crash_loop_restarts)


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
    supervisor: Supervisor = field(init=False)
    pool: asyncpg.Pool | None = field(init=False, default=None)
    relay: OutboxRelay | None = field(init=False, default=None)
    _consumers: list[IdempotentConsumer] = field(init=False, default_factory=list)
    _watched: list[Watched] = field(init=False, default_factory=list)  # each consumer's Kafka client
    _background: dict[str, BackgroundWork] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        # FastStream's "Received"/"Processed" per batch at debug: a third of the log lines under
        # load, and their formatting CPU (issue 16); the kernel's metrics count batches instead
        self.broker = KafkaBroker(
            self.settings.kafka_bootstrap, logger=structlog.get_logger("faststream"), log_level=logging.DEBUG
        )
        self.supervisor = Supervisor(self.name, self.settings.supervision())
        self.store.max_event_bytes = self.settings.max_event_bytes
        if self.retry.outage_ceiling != self.settings.outage_ceiling:
            self.retry = replace(self.retry, outage_ceiling=self.settings.outage_ceiling)
        system = Actor(id=f"icam-{self.name}", role="system", organisation="immigration_office")
        self.application = Application(
            self.store,
            self._started_pool,
            system,
            clock=self.clock,
            service=self.name,
            retry_ceiling=self.settings.command_retry_seconds,
        )
        self.background("idempotency-purge", self._purge_idempotency_keys)

    def _started_pool(self) -> asyncpg.Pool:
        assert self.pool is not None, "the service has not started"
        return self.pool

    async def _purge_idempotency_keys(self) -> None:
        """Forget idempotency records older than the window, every few minutes (supervised)."""
        while True:
            async with self._started_pool().acquire() as conn:
                await idempotency.purge_expired(conn, self.settings.idempotency_window)
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
            watch=self.supervisor.worker(f"consumer:{consumer_name}"),
            lanes=self.settings.consumer_lanes,
        )
        session = self.settings.consumer_session_timeout_ms
        options.setdefault("session_timeout_ms", session)
        options.setdefault("heartbeat_interval_ms", max(session // 3, 100))
        if self.settings.consumer_group_prefix:
            options.setdefault("group_id", self.settings.consumer_group_prefix + consumer_name)
        subscriber = consumer.subscribe(self.broker, topic, **options)
        self._consumers.append(consumer)
        self._watched.append(Watched(consumer.watch, subscriber))

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
        """Run `work()` as a supervised worker once the service started (pool open, migrations
        applied, broker connected); it is cancelled on shutdown. A run that ends with an error is
        logged (`worker_restarted`), counted and started again with backoff; one that returns is
        done."""
        if name in self._background:
            raise ValueError(f"a background task named {name!r} is already registered")
        self._background[name] = work

    async def start(self) -> None:
        configure_logging()
        if (vault := vault_of(self.settings)) is not None:
            sealing.install(vault)
        elif self.store.vault is None and self.seals_personal_data:
            log.warning("personal_data_in_clear", service=self.name, reason="ICAM_KEYRING_URL is not set")
        self.pool = await db.create_pool(
            self.settings.database_url, min_size=2, max_size=self.settings.pool_size
        )
        migrations = [self.migrations_dir] if self.migrations_dir else []
        await apply_migrations(self.pool, *migrations)
        async with self.pool.acquire() as conn:
            for projection in self.store.inline_projections:
                await register_projection(conn, projection, INLINE)
            for projection in self.async_projections:
                await register_projection(conn, projection, ASYNC)
        self._start_workers(self.pool)
        await self.broker.start()
        for name, work in self._background.items():
            self.supervisor.spawn(name, work)
        log.info("service_started", service=self.name)

    def _start_workers(self, pool: asyncpg.Pool) -> None:
        """The kernel's own workers, each supervised under its name (the `worker` label)."""
        self.relay = OutboxRelay(pool, self.store.topic, bootstrap=self.settings.kafka_bootstrap)
        self.store.appended = self.relay.wake  # a local append is published without waiting for a poll
        self.supervisor.spawn("outbox-relay", self.relay.run)
        timers = TimerWorker(pool, self.timers, retry_delay=self.timer_retry_delay)
        self.supervisor.spawn("timers", timers.run)
        self.supervisor.spawn("timers-overdue", timers.watch_overdue)
        for projection in self.async_projections:
            self.supervisor.spawn(
                f"projection:{projection.name}", ProjectionRunner(pool, self.store, projection).run
            )
        for consumer in self._consumers:
            self.supervisor.spawn(f"parked:{consumer.name}", _releasing(consumer))
        if self._watched:
            self.supervisor.spawn("consumer-clients", lambda: watch_clients(self._watched))

    async def stop(self) -> None:
        await self.broker.stop()
        await self.supervisor.stop()
        if self.pool is not None:
            await self.pool.close()
        tracing.flush()
        log.info("service_stopped", service=self.name)

    async def database_ready(self) -> bool:
        assert self.pool is not None
        async with self.pool.acquire() as conn:
            return bool(await conn.fetchval("select true"))

    async def broker_ready(self) -> bool:
        return bool(await self.broker.ping(timeout=1.0))

    async def relay_ready(self) -> bool:
        """Healthy while the relay runs and the outbox drains: a backlog older than a minute means
        it is stuck; a relay that is restarting is not ready, however empty its outbox."""
        assert self.relay is not None
        if not self.supervisor.running("outbox-relay"):
            return False
        _, age = await self.relay.backlog()
        return age < 60


def _releasing(consumer: IdempotentConsumer) -> BackgroundWork:
    return lambda: keep_releasing(consumer)


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
    tracing.configure(runtime.settings.service_name)  # nothing unless an OTLP endpoint is given
    app = FastAPI(lifespan=lifespan, **fastapi)
    tracing.instrument_app(app)
    app.state.application = runtime.application
    install_verifier(app, auth)
    app.add_middleware(RequestGuard, limits=limits or Limits.from_env())
    install_problem_handlers(app)
    app.state.access_audit = access_audit.DirectReadAudit(
        runtime._started_pool, access_audit.AuditProof.from_env()
    )
    document_problems(app)
    checks = {
        "database": runtime.database_ready,
        "broker": runtime.broker_ready,
        "relay": runtime.relay_ready,
    }
    app.include_router(health_router(checks, broken=runtime.supervisor.crash_looping))
    for router in [*routers, *direct_reads_router(runtime)]:
        app.include_router(router)
    return app


Text = Annotated[str | None, Query(max_length=200)]


def direct_reads_router(runtime: ServiceRuntime) -> list[APIRouter]:
    """`GET /audit/direct` for auditors: the reads of personal data this service audited itself,
    newest first — when the route table has that row for the service."""
    if not any(r.service == runtime.name and r.path == "/audit/direct" for r in ROUTES):
        return []
    router = PolicyRouter(runtime.name)

    @router.get("/audit/direct", tags=["audit"], summary="Reads of personal data that came directly")
    async def direct_reads(
        _: CurrentPrincipal,
        subject: Text = None,
        path_contains: Text = None,
        since: Moment | None = None,
        limit: Annotated[int, Query(ge=1, le=access_audit.MAX_ROWS)] = 100,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> list[access_audit.DirectReadRow]:
        return await access_audit.search(
            runtime._started_pool(),
            subject=subject,
            path_contains=path_contains,
            since=since,
            limit=limit,
            offset=offset,
        )

    return [router]
