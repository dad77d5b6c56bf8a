"""Supervised background workers: one that fails is logged, counted and restarted with backoff.

    supervisor = Supervisor("case")
    supervisor.spawn("outbox-relay", relay.run)          # a zero-argument coroutine function
    consumer = IdempotentConsumer(..., watch=supervisor.worker("consumer:case-from-invitation"))
    supervisor.crash_looping()                            # what /health/live reports

A worker's run that ends with an error is restarted after a backoff that doubles with each failure
in a row (a run that lasted `stable_after` seconds starts the count again). Every restart is logged
(`worker_restarted`: worker, error type, SQLSTATE, where raised — never the message, which may
quote personal data) and counted in `icam_worker_restarts_total{worker}`. A worker that failed
`crash_loop` times in a row for reasons other than the infrastructure (a bug, not an outage) is in
a crash loop: `/health/live` then fails so that the orchestrator replaces the process. Outages
(`failures.is_transient`) are waited out, however long, without failing liveness: a new process
would wait for the same database. A worker that returns normally is done and not restarted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from icam_kernel.failures import Backoff, describe, is_transient
from icam_kernel.observability import WORKER_RESTARTS

log = structlog.get_logger(__name__)

Work = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Policy:
    """How a supervisor restarts: backoff between runs, and when failures in a row are a loop."""

    backoff: Backoff = field(default_factory=lambda: Backoff(initial=0.5, ceiling=30.0))
    crash_loop: int = 5
    stable_after: float = 60.0


@dataclass
class Worker:
    """What the supervisor knows of one worker (also the watch a consumer reports to)."""

    name: str
    service: str
    policy: Policy
    running: bool = False
    restarts: int = 0
    in_a_row: int = 0  # failures in a row, outages included (they set the backoff)
    bugs_in_a_row: int = 0  # failures in a row that were not outages (they make a crash loop)
    last_error: str | None = None
    _started: float = field(default_factory=time.monotonic)

    @property
    def crash_looping(self) -> bool:
        return self.bugs_in_a_row >= self.policy.crash_loop

    def started(self) -> None:
        self.running, self._started = True, time.monotonic()

    def succeeded(self) -> None:
        """The work went through: whatever failed before is over."""
        self.in_a_row = self.bugs_in_a_row = 0

    def failed(self, error: BaseException) -> float:
        """Record a failed run; returns how long to wait before the next."""
        self.running = False
        if time.monotonic() - self._started >= self.policy.stable_after:
            self.succeeded()
        self.restarts += 1
        self.in_a_row += 1
        transient = is_transient(error)
        if not transient:
            self.bugs_in_a_row += 1
        self.last_error = type(error).__name__
        WORKER_RESTARTS.labels(self.name).inc()
        delay = self.policy.backoff.delay(self.in_a_row)
        fields = describe(error)
        event = "worker_waiting_for_infrastructure" if transient else "worker_restarted"
        logger = log.warning if transient else log.error
        logger(event, service=self.service, worker=self.name, failures_in_a_row=self.in_a_row,
               retry_in_seconds=round(delay, 2), crash_loop=self.crash_looping, **fields)  # fmt: skip
        return delay


class Supervisor:
    """Runs a service's background workers, restarting each that fails; `stop` cancels them all."""

    def __init__(self, service: str, policy: Policy | None = None) -> None:
        self.service = service
        self.policy = policy or Policy()
        self.workers: dict[str, Worker] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def worker(self, name: str) -> Worker:
        """The state kept for `name` (created on first use)."""
        if name not in self.workers:
            self.workers[name] = Worker(name, self.service, self.policy)
        return self.workers[name]

    def spawn(self, name: str, work: Work) -> asyncio.Task[None]:
        """Run `work()` now and again after each failure, until cancelled or it returns."""
        task = asyncio.create_task(self._keep(self.worker(name), work), name=name)
        self._tasks.append(task)
        return task

    async def _keep(self, worker: Worker, work: Work) -> None:
        while True:
            worker.started()
            try:
                await work()
            except asyncio.CancelledError:
                worker.running = False
                raise
            except Exception as error:
                await asyncio.sleep(worker.failed(error))
                continue
            worker.running = False
            log.info("worker_finished", service=self.service, worker=worker.name)
            return

    def running(self, name: str) -> bool:
        found = self.workers.get(name)
        return found is not None and found.running

    def crash_looping(self) -> list[str]:
        """Names of the workers in a crash loop (empty when the process is live)."""
        return sorted(name for name, w in self.workers.items() if w.crash_looping)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
