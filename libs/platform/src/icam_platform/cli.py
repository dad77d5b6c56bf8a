"""The `icam` command: run the platform locally and look after it.

icam infra up|down|status|logs   PostgreSQL and Kafka only
icam up|down|status|logs         the whole platform (infrastructure and every service)
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from icam_platform.infra import InfraError, manager
from icam_platform.settings import InfraSettings


def _settings(args: argparse.Namespace) -> InfraSettings:
    return InfraSettings.from_env(Path(args.home) if args.home else None)


def infra_up(args: argparse.Namespace) -> int:
    started = time.monotonic()
    endpoints = manager.up(_settings(args))
    print(f"PostgreSQL  {endpoints.database_url}")
    print(f"Kafka       {endpoints.kafka_bootstrap}")
    print(f"ready in {time.monotonic() - started:.1f}s; logs under {_settings(args).logs_dir}")
    return 0


def infra_down(args: argparse.Namespace) -> int:
    stopped = manager.down(_settings(args))
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def infra_status(args: argparse.Namespace) -> int:
    info = manager.describe(_settings(args))
    for key, value in info.items():
        print(f"{key:<10} {value}")
    return 0 if "stopped" not in (info["postgres"], info["kafka"]) else 3


def logs(args: argparse.Namespace) -> int:
    settings = _settings(args)
    files = {
        "kafka": settings.logs_dir / "kafka" / "server.log",
        "postgres": settings.pgdata / "log",
    }
    for service_log in sorted(settings.logs_dir.glob("*.log")):
        files[service_log.stem] = service_log
    if args.component not in files:
        print(f"unknown component {args.component!r}; choose one of: {', '.join(sorted(files))}")
        return 2
    path = files[args.component]
    if not path.exists():
        print(f"no log yet at {path}")
        return 1
    cmd = ["tail", "-n", str(args.lines)] + (["-F"] if args.follow else []) + [str(path)]
    return subprocess.call(cmd)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="icam", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", help="state folder (default: $ICAM_HOME or <repo>/.icam)")
    commands = parser.add_subparsers(dest="command", required=True)

    infra = commands.add_parser("infra", help="local PostgreSQL and Kafka")
    infra_cmds = infra.add_subparsers(dest="infra_command", required=True)
    infra_cmds.add_parser("up", help="start (or reuse) PostgreSQL and Kafka").set_defaults(func=infra_up)
    infra_cmds.add_parser("down", help="stop them, keeping data").set_defaults(func=infra_down)
    infra_cmds.add_parser("status", help="what runs where").set_defaults(func=infra_status)
    _add_logs(infra_cmds)
    _add_platform_commands(commands)
    return parser


def _add_logs(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    log_cmd = commands.add_parser("logs", help="show a component's log")
    log_cmd.add_argument("component", help="kafka, postgres or a service name")
    log_cmd.add_argument("-n", "--lines", type=int, default=50)
    log_cmd.add_argument("-f", "--follow", action="store_true")
    log_cmd.set_defaults(func=logs)


def _add_platform_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    from icam_platform import platform, privacy, topics
    from icam_platform.mailbox import cli as mail

    platform.register_commands(commands)
    topics.register_commands(commands)
    privacy.register_commands(commands)
    mail.register_commands(commands)
    _add_logs(commands)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except InfraError as exc:
        print(f"icam: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
