"""The whole platform as local processes: infrastructure first, then every service, then the gateway.

Each service runs as its own uvicorn process with its own database and log file; `icam status`
reports a crashed one instead of hiding it.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from icam_auth import Principal, Role
from icam_auth.issuer import LOCAL_ISSUER, LocalIssuer
from icam_platform import mailbox, topics
from icam_platform.infra import manager, process
from icam_platform.infra.manager import Endpoints
from icam_platform.settings import InfraSettings


@dataclass(frozen=True)
class Service:
    name: str
    port: int
    app: str  # "module:factory" for uvicorn --factory
    database: bool = True  # whether it gets a database of its own (icam_<name>)

    @property
    def module(self) -> str:
        return self.app.split(":")[0]

    def installed(self) -> bool:
        return importlib.util.find_spec(self.module.split(".")[0]) is not None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (
    Service("privacy", 8107, "icam_privacy.app:create_app"),
    Service("invitation", 8101, "icam_invitation.app:create_app"),
    Service("case", 8102, "icam_case.app:create_app"),
    Service("referral", 8103, "icam_referral.app:create_app"),
    Service("notification", 8104, "icam_notification.app:create_app"),
    Service("gateway", 8100, "icam_gateway.app:create_app"),
    Service("oidc", 8106, "icam_auth.oidc_provider:create_app", database=False),
    Service("web", 8105, "icam_web.app:create_app"),
)


def services(port_offset: int | None = None) -> tuple[Service, ...]:
    """The platform's processes; `ICAM_PORT_OFFSET` moves all ports (a second platform beside one)."""
    offset = int(os.environ.get("ICAM_PORT_OFFSET", "0")) if port_offset is None else port_offset
    return tuple(Service(s.name, s.port + offset, s.app, s.database) for s in SERVICES)


def _port_offset() -> int:
    return int(os.environ.get("ICAM_PORT_OFFSET", "0"))


def processes(*, with_mailbox: bool | None = None) -> tuple[Service, ...]:
    """What `icam up` runs: the development mailbox first (unless ICAM_DEV_MAILBOX=0), the services."""
    wanted = mailbox.enabled() if with_mailbox is None else with_mailbox
    dev = (Service("mailbox", mailbox.HTTP_PORT + _port_offset(), mailbox.APP),) if wanted else ()
    return dev + services()


def local_issuer(settings: InfraSettings) -> LocalIssuer:
    """The development token issuer; its key pair is kept with the platform's state."""
    return LocalIssuer(settings.home / "auth")


def _pid_file(settings: InfraSettings, service: Service) -> Path:
    return settings.run_dir / f"{service.name}.pid"


def _environment(
    service: Service,
    endpoints: Endpoints,
    settings: InfraSettings,
    peers: tuple[Service, ...],
    extra: dict[str, str],
) -> dict[str, str]:
    env = dict(os.environ)
    for other in peers:
        env.setdefault(f"{other.name.upper()}_URL", other.url)
    database = os.environ.get(f"{service.name.upper()}_DATABASE_URL") or endpoints.database_for(service.name)
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
            "DATABASE_URL": database if service.database else "",
            "ICAM_SERVICE_NAME": service.name,
            "ICAM_HOME": str(settings.home),
            "LOG_FORMAT": "json",
            "ICAM_AUTH_ISSUER": LOCAL_ISSUER,
            "ICAM_AUTH_JWKS": str(local_issuer(settings).write_jwks()),
        }
    )
    env.update(_key_custody(service, peers, settings))
    env.update(extra)
    return env


SEALING = ("invitation", "case", "referral", "notification")


def _key_custody(service: Service, peers: tuple[Service, ...], settings: InfraSettings) -> dict[str, str]:
    """The services that seal personal data get the privacy service's address and a workload token
    of their own (role `service`, 30 days: a local platform is restarted long before)."""
    privacy = next((p for p in peers if p.name == "privacy"), None)
    if privacy is None or service.name not in SEALING:
        return {}
    token = local_issuer(settings).mint(Principal(service.name, Role.SERVICE), ttl_seconds=30 * 24 * 3600)
    return {"ICAM_KEYRING_URL": privacy.url, "ICAM_SERVICE_TOKEN": token}


def healthy(service: Service, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{service.url}/health/ready", timeout=timeout) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def start_service(
    service: Service,
    endpoints: Endpoints,
    settings: InfraSettings,
    peers: tuple[Service, ...] = SERVICES,
    extra_env: dict[str, str] | None = None,
) -> str:
    if process.read_pid(_pid_file(settings, service)) is not None:
        return "already running"
    if not process.port_is_free(service.port):
        return f"port {service.port} taken by {process.port_owner(service.port)}"
    cmd = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        service.app,
        "--host",
        "127.0.0.1",
        "--port",
        str(service.port),
        "--no-access-log",
    ]
    process.spawn(
        cmd,
        log_file=settings.logs_dir / f"{service.name}.log",
        pid_file=_pid_file(settings, service),
        env=_environment(service, endpoints, settings, peers, extra_env or {}),
    )
    return "started"


def stop_service(service: Service, settings: InfraSettings) -> bool:
    return process.stop(_pid_file(settings, service), timeout=30)


def wait_healthy(started: list[Service], settings: InfraSettings, timeout: float = 90.0) -> dict[str, str]:
    """Poll each service's readiness; a process that died is reported as crashed, not waited for."""
    pending = {s.name: s for s in started}
    result: dict[str, str] = {}
    deadline = time.monotonic() + timeout
    while pending and time.monotonic() < deadline:
        for name, service in list(pending.items()):
            if process.read_pid(_pid_file(settings, service)) is None:
                result[name] = f"CRASHED: see {settings.logs_dir / (name + '.log')}"
                del pending[name]
            elif healthy(service):
                result[name] = f"healthy at {service.url}"
                del pending[name]
        time.sleep(0.3)
    for name in pending:
        result[name] = f"NOT HEALTHY after {timeout:.0f}s: see {settings.logs_dir / (name + '.log')}"
    return result


def up(args: argparse.Namespace) -> int:
    settings = InfraSettings.from_env(Path(args.home) if args.home else None)
    started = time.monotonic()
    endpoints = manager.up(settings)
    asyncio.run(topics.ensure_topics(endpoints.kafka_bootstrap, replication_factor=1))
    print(f"PostgreSQL   {endpoints.database_url}")
    print(f"Kafka        {endpoints.kafka_bootstrap}")
    peers = processes()
    available = [s for s in peers if s.installed()]
    for service in peers:
        if service not in available:
            print(f"{service.name:<12} not built yet (package {service.module} missing)")
    for service in available:
        start_service(service, endpoints, settings, peers, mailbox.environment(_port_offset()))
    report = wait_healthy(available, settings)
    for name, state in report.items():
        print(f"{name:<12} {state}")
    print(f"ready in {time.monotonic() - started:.1f}s; logs under {settings.logs_dir}")
    gateway = next((s for s in available if s.name == "gateway"), None)
    if gateway:
        print(f"Gateway      {gateway.url}   docs: {gateway.url}/docs")
        print("Token        uv run icam token --role coach --region brussels --sub coach-17")
    if any(s.name == "mailbox" for s in available):
        api = f"http://127.0.0.1:{mailbox.HTTP_PORT + _port_offset()}/docs"
        print(f"Mailbox      uv run icam mail   (API: {api})")
    failed = [n for n, state in report.items() if not state.startswith("healthy")]
    code = 1 if failed else 0
    if getattr(args, "demo", False) and gateway and not failed:
        from icam_platform.demo import run_demo  # imported late: only `--demo` needs the journeys

        code = run_demo(gateway.url, local_issuer(settings).mint)
    web = next((s for s in available if s.name == "web"), None)
    if web:  # last, so that it is the line a person sees
        print(f"Web          {web.url}   (sign in as any made-up staff member of the local provider)")
    return code


def down(args: argparse.Namespace) -> int:
    settings = InfraSettings.from_env(Path(args.home) if args.home else None)
    for service in reversed(processes(with_mailbox=True)):
        if stop_service(service, settings):
            print(f"stopped {service.name}")
    stopped = manager.down(settings)
    print("stopped: " + (", ".join(stopped) if stopped else "no infrastructure was running"))
    return 0


def status(args: argparse.Namespace) -> int:
    settings = InfraSettings.from_env(Path(args.home) if args.home else None)
    code = 0
    for key, value in manager.describe(settings).items():
        print(f"{key:<12} {value}")
    for service in processes():
        if not service.installed():
            continue
        pid = process.read_pid(_pid_file(settings, service))
        if pid is None:
            state, code = "stopped (or crashed: see its log)", 3
        elif healthy(service):
            state = f"healthy pid {pid} {service.url}"
        else:
            state, code = f"UNHEALTHY pid {pid} {service.url}", 3
        print(f"{service.name:<12} {state}")
    return code


def restart(args: argparse.Namespace) -> int:
    down(args)
    return up(args)


def register_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    up_cmd = commands.add_parser("up", help="start the whole platform (infrastructure and services)")
    up_cmd.add_argument("--demo", action="store_true", help="seed demo households once healthy")
    up_cmd.set_defaults(func=up)
    commands.add_parser("down", help="stop the platform, keeping data").set_defaults(func=down)
    commands.add_parser("status", help="health of every process").set_defaults(func=status)
    commands.add_parser("restart", help="down, then up").set_defaults(func=restart)
    token_cmd = commands.add_parser("token", help="mint a bearer token from the local issuer")
    token_cmd.add_argument("--role", required=True, choices=[r.value for r in Role])
    token_cmd.add_argument("--sub", required=True, help="subject: coach id, partner user, ...")
    token_cmd.add_argument("--region", help="coach and team lead: their region")
    token_cmd.add_argument("--organisation", help="return partner: their organisation")
    token_cmd.add_argument("--ttl", type=int, default=8 * 3600, help="lifetime in seconds")
    token_cmd.set_defaults(func=token)


def token(args: argparse.Namespace) -> int:
    settings = InfraSettings.from_env(Path(args.home) if args.home else None)
    principal = Principal(args.sub, Role(args.role), args.region, args.organisation)
    print(local_issuer(settings).mint(principal, ttl_seconds=args.ttl))
    return 0
