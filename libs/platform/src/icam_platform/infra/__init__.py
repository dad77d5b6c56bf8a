"""Local infrastructure: a real PostgreSQL and a real single-node Apache Kafka as processes."""

from icam_platform.infra.errors import InfraError

__all__ = ["InfraError"]
