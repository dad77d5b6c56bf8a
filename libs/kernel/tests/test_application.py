"""The one command path: given a stream, when a command or a reaction runs, then events or a refusal.

A toy aggregate over a real contract event (which coach is responsible for a case) keeps the
specifications short; everything else is real: PostgreSQL, the store, the idempotency records.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
import pytest

from icam_auth import Principal, Role
from icam_contracts.base import Event
from icam_contracts.envelope import Actor as ContractActor
from icam_contracts.envelope import EventEnvelope
from icam_contracts.events import CoachAssigned
from icam_kernel import idempotency
from icam_kernel.application import Aggregate, Application, Caller, Cause, Plan
from icam_kernel.errors import AlreadyExists, Conflict, DatabaseUnavailable, IdempotencyKeyReused, NotFound
from icam_kernel.events import Actor, RecordedEvent
from icam_kernel.reactions import HandlerTable, Remember, When
from icam_kernel.store import EventStore, WrongExpectedVersion

pytestmark = pytest.mark.integration

LEAD = Principal("lead-1", Role.TEAM_LEAD, region="brussels")


@dataclass(frozen=True)
class Responsibility:
    """Which coach answers for a case, and how often that changed."""

    case_id: uuid.UUID | None = None
    household_id: uuid.UUID | None = None
    coach: str | None = None
    changes: int = 0


def evolve(state: Responsibility, event: Event, at: object) -> Responsibility:
    if isinstance(event, CoachAssigned):
        return Responsibility(event.case_id, event.household_id, event.coach_id, state.changes + 1)
    return state


RESPONSIBILITY = Aggregate("responsibility", Responsibility(), evolve, lambda s: s.case_id is not None)


def assign(coach: str, case_id: uuid.UUID | None = None, household: uuid.UUID | None = None):  # type: ignore[no-untyped-def]
    def decide(state: Responsibility) -> list[Event]:
        if state.coach == coach:
            raise Conflict(f"{coach} is already responsible", field="coach_id")
        return [
            CoachAssigned(
                household_id=state.household_id or household or uuid.uuid4(),
                case_id=state.case_id or case_id or uuid.uuid4(),
                coach_id=coach,
                previous_coach_id=state.coach,
                assigned_by="lead-1",
            )
        ]

    return decide


@pytest.fixture
def app(db: asyncpg.Pool) -> Application:
    return Application(EventStore("t"), lambda: db, Actor("icam-test", "system", "immigration_office"))


async def opened(app: Application, coach: str = "coach-1", **caller: object) -> tuple[str, uuid.UUID]:
    case_id, household = uuid.uuid4(), uuid.uuid4()
    await app.execute(
        RESPONSIBILITY, str(case_id), assign(coach, case_id, household), Caller(LEAD, **caller), creates=True
    )
    return str(case_id), household


async def events_of(app: Application, stream: str) -> list[tuple[str, str]]:
    async with app.pool.acquire() as conn:
        return [(e.event_type, e.data["coach_id"]) for e in await app.store.read_stream(conn, stream)]


async def test_a_command_decides_on_the_folded_stream_and_appends_at_its_version(app: Application) -> None:
    stream, household = await opened(app)

    result = await app.execute(RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD))

    assert await events_of(app, stream) == [("CoachAssigned", "coach-1"), ("CoachAssigned", "coach-2")]
    assert (result.stream_version, result.events, result.household_id) == (
        2,
        ("CoachAssigned",),
        str(household),
    )
    assert result.position > 0 and not result.replayed


async def test_a_command_on_a_stream_that_does_not_exist_is_not_found(app: Application) -> None:
    with pytest.raises(NotFound):
        await app.execute(RESPONSIBILITY, str(uuid.uuid4()), assign("coach-2"), Caller(LEAD))


async def test_creating_what_exists_is_a_conflict(app: Application) -> None:
    stream, _ = await opened(app)

    with pytest.raises(AlreadyExists):
        await app.execute(RESPONSIBILITY, stream, assign("coach-9"), Caller(LEAD), creates=True)


async def test_a_refusal_of_the_decision_appends_nothing(app: Application) -> None:
    stream, _ = await opened(app, coach="coach-1")

    with pytest.raises(Conflict):
        await app.execute(RESPONSIBILITY, stream, assign("coach-1"), Caller(LEAD))
    assert len(await events_of(app, stream)) == 1


async def test_concurrent_commands_on_one_stream_queue_instead_of_failing(app: Application) -> None:
    stream, _ = await opened(app)

    results = await asyncio.gather(
        *(app.execute(RESPONSIBILITY, stream, assign(f"coach-{n}"), Caller(LEAD)) for n in range(10, 30))
    )

    assert sorted(r.stream_version for r in results) == list(range(2, 22))
    assert len(await events_of(app, stream)) == 21


async def test_a_caller_who_pinned_a_version_that_moved_gets_a_conflict(app: Application) -> None:
    stream, _ = await opened(app)
    await app.execute(RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD))

    with pytest.raises(WrongExpectedVersion):
        await app.execute(RESPONSIBILITY, stream, assign("coach-3"), Caller(LEAD), expected_version=1)


def key(name: str, body: bytes = b"{}") -> idempotency.Key:
    return idempotency.Key.of(name, "POST", "/responsibility", body)


async def test_a_retry_with_the_same_key_answers_the_first_result_without_a_second_event(
    app: Application,
) -> None:
    stream, _ = await opened(app)
    first = await app.execute(RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD, idempotency=key("k-1")))

    again = await app.execute(RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD, idempotency=key("k-1")))

    assert again.replayed and not first.replayed
    assert (again.stream_version, again.position, again.command_id) == (
        first.stream_version,
        first.position,
        first.command_id,
    )
    assert len(await events_of(app, stream)) == 2


async def test_the_same_key_with_another_request_is_refused(app: Application) -> None:
    stream, _ = await opened(app)
    await app.execute(RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD, idempotency=key("k-2")))

    with pytest.raises(IdempotencyKeyReused):
        await app.execute(
            RESPONSIBILITY, stream, assign("coach-3"), Caller(LEAD, idempotency=key("k-2", b'{"other":1}'))
        )


async def test_a_refused_command_leaves_its_key_free_for_the_corrected_retry(app: Application) -> None:
    stream, _ = await opened(app, coach="coach-1")
    with pytest.raises(Conflict):
        await app.execute(RESPONSIBILITY, stream, assign("coach-1"), Caller(LEAD, idempotency=key("k-3")))

    result = await app.execute(
        RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD, idempotency=key("k-3"))
    )

    assert not result.replayed and result.stream_version == 2


async def test_racing_retries_with_one_key_append_once(app: Application) -> None:
    stream, _ = await opened(app)

    results = await asyncio.gather(
        *(
            app.execute(RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD, idempotency=key("k-4")))
            for _ in range(8)
        )
    )

    assert sum(not r.replayed for r in results) == 1
    assert {r.position for r in results} == {results[0].position}
    assert len(await events_of(app, stream)) == 2


async def test_the_household_keeps_the_journey_of_its_first_contact(app: Application) -> None:
    journey = str(uuid.uuid4())
    stream, _ = await opened(app, correlation_hint=journey)

    later = await app.execute(
        RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD, correlation_hint=str(uuid.uuid4()))
    )

    assert later.correlation_id == journey
    async with app.pool.acquire() as conn:
        assert {e.correlation_id for e in await app.store.read_stream(conn, stream)} == {journey}


async def test_a_reaction_carries_its_cause_and_derives_its_event_ids(app: Application) -> None:
    stream, _ = await opened(app)
    cause = Cause(str(uuid.uuid4()), str(uuid.uuid4()))

    async with app.pool.acquire() as conn, conn.transaction():
        result = await app.react(conn, RESPONSIBILITY, Plan(stream, assign("coach-2")), cause)
    async with app.pool.acquire() as conn:
        event = (await app.store.read_stream(conn, stream))[-1]

    assert result is not None and result.correlation_id == cause.correlation_id
    assert (event.causation_id, event.actor.role) == (cause.causation_id, "system")
    assert event.event_id == uuid.uuid5(
        uuid.UUID("3f6c2a7e-3d1b-4c9e-9a0f-6c1d2e3f4a5b"), f"{cause.causation_id}:{stream}:1:CoachAssigned"
    )


async def test_a_reaction_for_a_stream_this_service_does_not_hold_does_nothing(app: Application) -> None:
    async with app.pool.acquire() as conn, conn.transaction():
        result = await app.react(
            conn, RESPONSIBILITY, Plan(str(uuid.uuid4()), assign("coach-2")), Cause("c", "j")
        )

    assert result is None


async def test_a_policy_runs_in_the_appends_transaction_and_a_failing_one_undoes_it(app: Application) -> None:
    seen: list[str] = []

    async def remember(conn: object, event: CoachAssigned) -> None:
        seen.append(event.coach_id)
        if event.coach_id == "coach-bad":
            raise RuntimeError("the claim table refuses")

    app.after("CoachAssigned", remember)
    stream, _ = await opened(app)
    with pytest.raises(RuntimeError):
        await app.execute(RESPONSIBILITY, stream, assign("coach-bad"), Caller(LEAD))

    assert seen == ["coach-1", "coach-bad"]
    assert len(await events_of(app, stream)) == 1


async def test_a_decision_may_start_another_stream_but_not_write_into_an_existing_one(
    app: Application,
) -> None:
    stream, household = await opened(app)
    other, _ = await opened(app)

    def hand_over(state: Responsibility) -> list[Event]:
        moved = CoachAssigned(
            household_id=household, case_id=uuid.UUID(other), coach_id="coach-5", assigned_by="lead-1"
        )
        return [*assign("coach-4")(state), moved]

    with pytest.raises(WrongExpectedVersion):
        await app.execute(RESPONSIBILITY, stream, hand_over, Caller(LEAD))
    result = await app.execute(
        RESPONSIBILITY, stream, hand_over, Caller(LEAD), extends=frozenset({"CoachAssigned"})
    )

    assert result.stream_version == 2
    assert await events_of(app, other) == [("CoachAssigned", "coach-1"), ("CoachAssigned", "coach-5")]


async def test_a_handler_table_runs_the_rows_of_the_events_type_in_order(app: Application) -> None:
    stream, household = await opened(app)
    kept: list[str] = []

    async def remember(conn: object, event: CoachAssigned, recorded: object) -> None:
        kept.append(f"remembered {event.coach_id}")

    async def reassign(conn: object, event: CoachAssigned, recorded: object) -> Plan[Responsibility]:
        kept.append("planned")
        return Plan(stream, assign("coach-from-reaction"))

    table = HandlerTable(
        app, Remember(CoachAssigned, remember), When(CoachAssigned, RESPONSIBILITY, reassign)
    )
    fact = CoachAssigned(household_id=household, case_id=uuid.uuid4(), coach_id="coach-7", assigned_by="x")
    recorded = RecordedEvent.from_envelope(
        EventEnvelope.wrap(
            fact,
            event_id=uuid.uuid4(),
            stream_version=1,
            occurred_at=datetime.now(UTC),
            recorded_at=datetime.now(UTC),
            actor=ContractActor(id="icam-case", role="system", organisation="immigration_office"),
            correlation_id=str(uuid.uuid4()),
            causation_id=str(uuid.uuid4()),
        ).model_dump(mode="json")
    )
    async with app.pool.acquire() as conn, conn.transaction():
        await table(conn, recorded)

    assert table.event_types == frozenset({"CoachAssigned"})
    assert kept == ["remembered coach-7", "planned"]
    assert (await events_of(app, stream))[-1] == ("CoachAssigned", "coach-from-reaction")


# the database refuses the first `budget` appends with a real SQLSTATE (a sequence is not rolled back)
_REFUSE_APPENDS = """
create sequence if not exists refusals;
create or replace function refuse_append() returns trigger language plpgsql as $$
begin
    if nextval('refusals') <= {budget} then
        raise exception 'injected' using errcode = '{sqlstate}';
    end if;
    return new;
end $$;
create trigger refuse_append before insert on events for each row execute function refuse_append();
"""


@pytest.mark.parametrize("sqlstate", ["40001", "40P01", "25006", "57P01"])
async def test_a_transient_refusal_before_the_commit_is_retried_and_the_command_appends_once(
    app: Application, sqlstate: str
) -> None:
    stream, _ = await opened(app)
    async with app.pool.acquire() as conn:
        await conn.execute(_REFUSE_APPENDS.format(budget=4, sqlstate=sqlstate))

    result = await app.execute(RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD))

    assert result.stream_version == 2
    assert await events_of(app, stream) == [("CoachAssigned", "coach-1"), ("CoachAssigned", "coach-2")]


async def test_a_database_that_stays_read_only_answers_unavailable_once_the_ceiling_is_reached(
    db: asyncpg.Pool,
) -> None:
    brief = Application(EventStore("t"), lambda: db, Actor("icam-test", "system"), retry_ceiling=0.3)
    stream, _ = await opened(brief)
    async with db.acquire() as conn:
        await conn.execute(_REFUSE_APPENDS.format(budget=1_000_000, sqlstate="25006"))

    with pytest.raises(DatabaseUnavailable) as unavailable:
        await brief.execute(RESPONSIBILITY, stream, assign("coach-2"), Caller(LEAD))

    assert unavailable.value.status == 503 and unavailable.value.details == {"outcome_unknown": False}
    assert len(await events_of(brief, stream)) == 1
