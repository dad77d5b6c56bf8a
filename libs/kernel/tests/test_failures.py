"""Which failures are outages to wait out, which are the work's own; what a log may say of them."""

from __future__ import annotations

import asyncpg
import pytest
from aiokafka import errors as kafka_errors
from pydantic import BaseModel, ValidationError

from icam_kernel.failures import Backoff, describe, is_transient, safe_message
from icam_kernel.keyring import KeyringUnavailable
from icam_kernel.sealing import BrokenSeal

pytestmark = pytest.mark.unit


def postgres_error(sqlstate: str) -> asyncpg.PostgresError:
    cls = asyncpg.PostgresError  # the subclass PostgreSQL would raise for that SQLSTATE
    for candidate in _all_subclasses(asyncpg.PostgresError):
        if getattr(candidate, "sqlstate", None) == sqlstate:
            cls = candidate
            break
    return cls("the message, which may quote a row")


def _all_subclasses(root: type) -> list[type]:
    found = []
    for cls in root.__subclasses__():
        found += [cls, *_all_subclasses(cls)]
    return found


@pytest.mark.parametrize(
    "sqlstate",
    [
        "40001",  # serialization failure
        "40P01",  # deadlock detected
        "25006",  # read-only transaction (failover, default_transaction_read_only)
        "57P01",  # admin shutdown (pg_terminate_backend, a restart)
        "57P03",  # cannot connect now (starting up)
        "57014",  # query cancelled
        "53300",  # too many connections
        "08006",  # connection failure
        "55P03",  # lock not available
    ],
)
def test_an_unavailable_or_refusing_database_is_transient(sqlstate: str) -> None:
    assert is_transient(postgres_error(sqlstate))


@pytest.mark.parametrize("sqlstate", ["23505", "22P02", "42P01", "P0001", "57P04"])
def test_a_constraint_a_bad_value_a_missing_table_or_a_dropped_database_is_not(sqlstate: str) -> None:
    assert not is_transient(postgres_error(sqlstate))


def test_the_network_and_the_broker_are_transient_a_too_large_record_is_not() -> None:
    assert is_transient(ConnectionRefusedError(111, "refused"))
    assert is_transient(TimeoutError())
    assert is_transient(kafka_errors.KafkaConnectionError())
    assert is_transient(kafka_errors.KafkaTimeoutError())
    assert is_transient(kafka_errors.NotLeaderForPartitionError())
    assert is_transient(asyncpg.InterfaceError("connection is closed"))
    assert not is_transient(kafka_errors.MessageSizeTooLargeError())
    assert not is_transient(asyncpg.exceptions.DataError("invalid input for query argument"))
    assert not is_transient(FileNotFoundError(2, "template missing"))
    assert not is_transient(ValueError("a rule of the handler"))


def test_an_unreachable_key_custodian_is_transient_a_seal_that_does_not_open_is_not() -> None:
    assert is_transient(KeyringUnavailable("key custodian answered 503 on /keys/release"))
    assert not is_transient(BrokenSeal("a sealed value does not open under its key"))


def test_a_failure_caused_by_an_outage_is_an_outage() -> None:
    try:
        try:
            raise postgres_error("57P01")
        except asyncpg.PostgresError as cause:
            raise RuntimeError("while recording the case") from cause
    except RuntimeError as wrapped:
        assert is_transient(wrapped)


def test_a_log_of_a_failure_names_its_type_state_and_place_never_its_message() -> None:
    try:
        raise postgres_error("23505")
    except asyncpg.PostgresError as error:
        fields = describe(error)

    assert fields["error_type"] == "UniqueViolationError"
    assert fields["sqlstate"] == "23505" and fields["transient"] is False
    assert fields["raised_at"].startswith("test_failures.py:")
    assert "row" not in repr(fields)


def test_a_dead_letter_names_the_invalid_fields_without_their_values() -> None:
    class Member(BaseModel):
        email: int

    with pytest.raises(ValidationError) as invalid:
        Member.model_validate({"email": "amina@example.org"})

    message = safe_message(invalid.value)
    assert "email: int_parsing" in message and "amina" not in message


def test_backoff_doubles_up_to_its_ceiling() -> None:
    assert [Backoff(0.5, 3.0).delay(n) for n in (1, 2, 3, 4, 5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
