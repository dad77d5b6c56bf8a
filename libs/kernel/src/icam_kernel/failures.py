"""Which failures are the infrastructure's (wait and try again) and which are the work's (give up).

A transient failure says nothing about the event or command being handled: the database is down,
restarting, read-only for a failover, refused the transaction's timing (serialization failure,
deadlock), cancelled the statement, or has no connection slot left; the broker is unreachable or
moving a partition's leader. Retried with backoff, it succeeds once the outage ends, so it is never
dead-lettered. Everything else is deterministic: the same input fails the same way again.

`describe(error)` is what logs and metrics may say about a failure: its type, SQLSTATE and where it
was raised — never its message, which can quote the values of a row or of an event (personal data).
"""

from __future__ import annotations

import asyncio
import errno
import socket
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import asyncpg
from aiokafka import errors as kafka_errors

from icam_kernel.keyring import KeyringUnavailable

# SQLSTATE classes and codes of an unavailable or refusing database (PostgreSQL appendix A)
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57", "58")  # connection, resources, operator, system
_TRANSIENT_SQLSTATES = frozenset(
    {
        "40001",  # serialization_failure
        "40P01",  # deadlock_detected
        "40003",  # statement_completion_unknown
        "25006",  # read_only_sql_transaction (a standby, or default_transaction_read_only)
        "55P03",  # lock_not_available
        "25P03",  # idle_in_transaction_session_timeout
    }
)
_NOT_TRANSIENT_SQLSTATES = frozenset({"57P04"})  # database_dropped: waiting will not bring it back

_TRANSIENT_KAFKA: tuple[type[BaseException], ...] = (
    kafka_errors.KafkaConnectionError,
    kafka_errors.KafkaTimeoutError,
    kafka_errors.NodeNotReadyError,
    kafka_errors.RequestTimedOutError,
    kafka_errors.KafkaUnavailableError,
    kafka_errors.BrokerNotAvailableError,
    kafka_errors.LeaderNotAvailableError,
    kafka_errors.NotLeaderForPartitionError,
    kafka_errors.UnknownTopicOrPartitionError,  # right after a broker restart, before metadata
    kafka_errors.CommitFailedError,  # a rebalance took the partition: it is delivered again
    kafka_errors.ProducerClosed,
)
_DETERMINISTIC_KAFKA: tuple[type[BaseException], ...] = (
    kafka_errors.MessageSizeTooLargeError,
    kafka_errors.RecordTooLargeError,
    kafka_errors.RecordListTooLargeError,
    kafka_errors.InvalidMessageError,
)
_TRANSIENT_OS = (ConnectionError, TimeoutError, asyncio.TimeoutError, socket.gaierror)
# network trouble reported as a bare OSError (a file that is missing is not transient)
_NETWORK_ERRNOS = frozenset(
    {
        errno.ENETUNREACH,
        errno.EHOSTUNREACH,
        errno.ENETDOWN,
        errno.EHOSTDOWN,
        errno.ECONNREFUSED,
        errno.ECONNRESET,
        errno.ECONNABORTED,
        errno.ETIMEDOUT,
        errno.EPIPE,
    }
)


def _chain(error: BaseException) -> Iterator[BaseException]:
    """The error and what caused it (`raise ... from`, or raised while handling), once each."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _transient_itself(error: BaseException) -> bool | None:
    """True / False when this exception alone decides; None when its cause must tell."""
    if isinstance(error, asyncpg.InvalidCachedStatementError | asyncpg.exceptions.OutdatedSchemaCacheError):
        return True  # a table was swapped under a prepared statement (a rebuild): run it again
    if isinstance(error, asyncpg.exceptions.InternalClientError):
        # a pooled connection the server terminated while idle ("cannot switch to state ...;
        # another operation is in progress"): the pool replaces it, the next attempt succeeds
        return True
    if isinstance(error, KeyringUnavailable):
        return True  # the key custodian (privacy service) is down or restarting
    if isinstance(error, asyncpg.PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        if state in _NOT_TRANSIENT_SQLSTATES:
            return False
        return state in _TRANSIENT_SQLSTATES or state[:2] in _TRANSIENT_SQLSTATE_CLASSES
    if isinstance(error, asyncpg.InterfaceError):
        # "connection is closed", "pool is closing": the connection went away under the pool (server
        # restarted, backend terminated); its subclasses are the client's own refusals of the input
        return type(error) is asyncpg.InterfaceError
    if isinstance(error, _DETERMINISTIC_KAFKA):
        return False
    if isinstance(error, _TRANSIENT_KAFKA):
        return True
    if isinstance(error, kafka_errors.KafkaError):
        return bool(getattr(error, "retriable", False))
    if isinstance(error, _TRANSIENT_OS):
        return True
    if isinstance(error, OSError):
        return error.errno in _NETWORK_ERRNOS
    return None


def is_transient(error: BaseException) -> bool:
    """Whether waiting and trying again can succeed: the infrastructure failed, not the work."""
    for link in _chain(error):
        verdict = _transient_itself(link)
        if verdict is not None:
            return verdict
    return False


def sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of the first database error in the chain, if any."""
    for link in _chain(error):
        state = getattr(link, "sqlstate", None)
        if state:
            return str(state)
    return None


def describe(error: BaseException) -> dict[str, Any]:
    """Log fields for `error` without its message: type, SQLSTATE, transient or not, and the file
    and line it was raised at (code, never data)."""
    fields: dict[str, Any] = {"error_type": type(error).__name__, "transient": is_transient(error)}
    state = sqlstate(error)
    if state:
        fields["sqlstate"] = state
    frames = traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    if frames:
        last = frames[-1]
        fields["raised_at"] = f"{last.filename.rsplit('/', 2)[-1]}:{last.lineno}"
    return fields


def safe_message(error: BaseException, limit: int = 2000) -> str:
    """A message for a dead letter: validation errors name the fields and what is wrong with them,
    without the values; database errors give their own message, never its DETAIL (row values)."""
    from pydantic import ValidationError

    if isinstance(error, ValidationError):
        parts = [f"{'.'.join(map(str, e['loc']))}: {e['type']}" for e in error.errors(include_input=False)]
        return f"{error.error_count()} validation error(s) for {error.title}: " + "; ".join(parts)[:limit]
    return str(error).splitlines()[0][:limit] if str(error) else type(error).__name__


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts: `initial`, doubling, never above `ceiling` seconds."""

    initial: float = 0.1
    ceiling: float = 5.0

    def delay(self, attempt: int) -> float:
        return float(min(self.initial * 2 ** max(attempt - 1, 0), self.ceiling))
