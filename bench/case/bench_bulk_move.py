"""A team lead hands 200 cases to a colleague at once: how long until every case moved, and every
`CoachAssigned` is on the case topic.

    uv run python bench/case/bench_bulk_move.py [--cases 200] [--sealed]

The case service runs in-process (its lifespan: pool, migrations, outbox relay, consumers) on the
test servers' PostgreSQL and Kafka; the cases are opened by its own reaction to InvitationSent,
then one `POST /moves/reassignment` moves them, each in its own transaction. Target: < 10 s.
`--sealed`: personal data sealed as the platform runs it, the keys from a real privacy service
over HTTP on loopback, the case service's key cache emptied just before the move (every case's
keys fetched again: the worst case).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from icam_auth import AuthSettings, Principal, Role
from icam_auth.issuer import LocalIssuer
from icam_case.app import create_app
from icam_case.config import CaseSettings, Topics
from icam_kernel.inbox import IdempotentConsumer
from icam_kernel.keyring import CachedKeyring
from icam_kernel.service import ServiceSettings
from icam_kernel.testing import read_topic
from icam_platform.infra import postgres
from icam_privacy.app import create_app as create_privacy_app
from icam_privacy.config import PrivacySettings
from icam_privacy.config import Topics as PrivacyTopics
from icam_testing import servers

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "services" / "case" / "tests"))
from incoming import invitation_sent, recorded


async def create_topics(bootstrap: str, topics: Topics) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [topics.case, topics.invitation, topics.referral, topics.notification]
        await admin.create_topics([NewTopic(n, 3, 1) for n in names])
    finally:
        await admin.close()


@contextlib.asynccontextmanager
async def key_custodian(
    found: servers.Servers, tag: str, auth: AuthSettings, prefix: str
) -> AsyncIterator[str]:
    """The privacy service on loopback (its own database), as the case service's key custodian."""
    url = await postgres.ensure_database(found.database_url, f"bench_move_keys_{tag}")
    service = ServiceSettings("privacy", url, found.kafka_bootstrap, consumer_group_prefix=prefix)
    settings = PrivacySettings(service=service, kek=os.urandom(32), topics=PrivacyTopics.prefixed(prefix))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_privacy_app(settings, auth), host="127.0.0.1", port=port, log_level="error")
    )
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        await postgres.drop_database(found.database_url, f"bench_move_keys_{tag}")


async def run(found: servers.Servers, cases: int, home: Path, sealed: bool) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:6]
    topics = Topics.with_prefix(f"bench-move-{tag}.")
    await create_topics(found.kafka_bootstrap, topics)
    url = await postgres.ensure_database(found.database_url, f"bench_move_{tag}")
    issuer = LocalIssuer(home)
    auth = AuthSettings(issuer=issuer.issuer, audience="icam", jwks=str(issuer.write_jwks()))
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(postgres.drop_database, found.database_url, f"bench_move_{tag}")
        keys = (
            await stack.enter_async_context(key_custodian(found, tag, auth, topics.case.split("icam.")[0]))
            if sealed
            else ""
        )
        token = issuer.mint(Principal("case", Role.SERVICE)) if sealed else ""
        service = ServiceSettings("case", url, found.kafka_bootstrap, keyring_url=keys, service_token=token)
        return await move_and_count(
            found, CaseSettings(service=service, topics=topics), auth, issuer, cases, sealed
        )


async def move_and_count(
    found: servers.Servers,
    settings: CaseSettings,
    auth: AuthSettings,
    issuer: LocalIssuer,
    cases: int,
    sealed: bool,
) -> dict[str, Any]:
    topics = settings.topics
    app = create_app(settings, auth)
    async with app.router.lifespan_context(app):
        inbox = IdempotentConsumer(app.state.application.pool, "bench", app.state.reactions)
        for i in range(cases + 1):
            await inbox.handle_once(
                recorded(invitation_sent(uuid.uuid4(), coach="coach-leaving" if i else "coach-new"))
            )
        async with app.state.application.pool.acquire() as conn:
            ids = [
                str(r["case_id"])
                for r in await conn.fetch("select case_id from caseload where coach_id = 'coach-leaving'")
            ]
        lead = issuer.mint(Principal("lead-bench", Role.TEAM_LEAD, region="brussels"))
        vault = app.state.application.store.vault
        if sealed:  # every case's keys fetched from the custodian again
            assert vault is not None and isinstance(vault.keyring, CachedKeyring)
            vault.keyring.clear()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://case", timeout=120) as client:
            started = time.perf_counter()
            answer = await client.post(
                "/moves/reassignment",
                json={"case_ids": ids, "to_coach": "coach-new", "confirm": True},
                headers={"authorization": f"Bearer {lead}"},
            )
            moved = time.perf_counter() - started
            events = await read_topic(
                found.kafka_bootstrap, topics.case, expected=2 * (cases + 1) + cases, timeout=60
            )
            published = time.perf_counter() - started
    assigned = [e for e in events if e["value"]["event_type"] == "CoachAssigned"]
    report = answer.json()
    return {
        "sealed": sealed,
        "cases": cases,
        "moved": len(report["moved"]),
        "failed": len(report["failed"]),
        "seconds_to_move": round(moved, 2),
        "seconds_until_all_published": round(published, 2),
        "coach_assigned_on_topic": len(assigned),
        "of_target_10s": round(published / 10, 2),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=200)
    parser.add_argument("--sealed", action="store_true")
    args = parser.parse_args()
    import tempfile

    with servers.provide() as found, tempfile.TemporaryDirectory() as home:
        print(asyncio.run(run(found, args.cases, Path(home), args.sealed)))
