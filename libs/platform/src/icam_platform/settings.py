"""Where the local platform keeps its files and which endpoints it uses.

Everything is overridable by environment variables so that the same code runs on a laptop,
in CI and against existing servers.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def repo_root() -> Path:
    """The checkout this package was installed from (editable install), else the working dir."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "deploy" / "kafka" / "pom.xml").exists():
            return parent
    return Path.cwd()


@dataclass(frozen=True)
class InfraSettings:
    """Paths and ports of one local infrastructure instance (dev platform or test run)."""

    home: Path
    kafka_port: int
    kafka_controller_port: int
    kafka_version: str
    kafka_heap: str
    cache_dir: Path
    external_kafka: str | None
    external_database_url: str | None

    @property
    def pgdata(self) -> Path:
        return self.home / "postgres"

    @property
    def kafka_dir(self) -> Path:
        return self.home / "kafka"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def kafka_bootstrap(self) -> str:
        return self.external_kafka or f"127.0.0.1:{self.kafka_port}"

    @classmethod
    def from_env(cls, home: Path | None = None, *, port_offset: int = 0) -> InfraSettings:
        env = os.environ
        return cls(
            home=(home or Path(env.get("ICAM_HOME", repo_root() / ".icam"))).resolve(),
            kafka_port=int(env.get("ICAM_KAFKA_PORT", 9092 + port_offset)),
            kafka_controller_port=int(env.get("ICAM_KAFKA_CONTROLLER_PORT", 9093 + port_offset)),
            kafka_version=env.get("ICAM_KAFKA_VERSION", "4.1.1"),
            kafka_heap=env.get("ICAM_KAFKA_HEAP", "512m"),
            cache_dir=Path(env.get("ICAM_CACHE_DIR", Path.home() / ".cache" / "icam")),
            external_kafka=env.get("KAFKA_BOOTSTRAP_SERVERS") or None,
            external_database_url=env.get("DATABASE_URL") or None,
        )
