"""Traces (issue 17, item 3; ADR 0016), on the platform as processes: one trace id from the request
at the gateway, through the invitation service, its append and its relay, to the notification
service's consumer and the e-mail it sends; and no span of the journey names the person.

Every process of the session's platform exports to the session's receiver, but no request starts a
trace by itself there (`OTEL_TRACES_SAMPLER_ARG=0`): the requests below come with a sampled
`traceparent` of the test's own, so they are the only ones traced.
"""

from __future__ import annotations

import json
import secrets
import uuid
from urllib.parse import quote

import httpx
import pytest

from icam_platform.journeys import Gateway, Household, coach, eventually, send_invitation, soon
from icam_testing.platform_under_test import PlatformUnderTest
from icam_testing.traces import ReceivedSpan, TraceReceiver

pytestmark = pytest.mark.e2e

TAG = uuid.uuid4().hex[:6]
GIVEN, FAMILY, BIRTH = "Tlalnepantla", "Oyelowo-Nakamura", "1987-11-23"
EMAIL = f"tlalnepantla.{TAG}@example.org"


def the_person() -> Household:
    adult = {
        "role": "adult",
        "person_id": f"OE{TAG}",
        "given_name": GIVEN,
        "family_name": FAMILY,
        "birth_date": BIRTH,
        "preferred_language": "nl",
        "contact": {
            "email": EMAIL,
            "postal_address": {
                "street": "Rue de la Loi",
                "house_number": "16",
                "postal_code": "1000",
                "municipality": "Bruxelles",
            },
        },
    }
    return Household(str(uuid.uuid4()), [adult])


def names_the_person(text: str) -> bool:
    lowered = text.lower()
    spellings = {GIVEN, FAMILY, BIRTH, EMAIL, quote(EMAIL, safe=""), BIRTH.replace("-", "")}
    return any(s.lower() in lowered for s in spellings)


def traced_gateway(platform: PlatformUnderTest, traceparent: str) -> Gateway:
    """A client of the gateway whose every request continues the test's (sampled) trace."""
    client = httpx.AsyncClient(
        timeout=30, limits=httpx.Limits(keepalive_expiry=4.0), headers={"traceparent": traceparent}
    )
    return Gateway(platform.gateway_url, platform.issuer.mint, client=client)


def e_mail_to(platform: PlatformUnderTest, address: str) -> bool:
    return any(address in str(m["To"]) for m in platform.mailbox.snapshot())


def chain(spans: list[ReceivedSpan], span: ReceivedSpan) -> list[ReceivedSpan]:
    """`span` and its ancestors within `spans`, nearest first."""
    by_id = {s.span_id: s for s in spans}
    found = [span]
    while found[-1].parent_span_id in by_id:
        found.append(by_id[found[-1].parent_span_id])
    return found


async def test_one_trace_goes_from_the_gateway_through_the_outbox_to_the_e_mail_sent(
    platform_under_test: PlatformUnderTest,
) -> None:
    platform = platform_under_test
    receiver = platform.traces
    assert isinstance(receiver, TraceReceiver), "the e2e platform exports its spans to a receiver"
    trace_id, root = secrets.token_hex(16), secrets.token_hex(8)
    gateway = traced_gateway(platform, f"00-{trace_id}-{root}-01")
    me, home = coach(f"coach-traces-{TAG}", "brussels"), the_person()
    try:
        # the person's names in a query string and in a body, their birth date in both
        await gateway.get(me, "/api/caseload", region="brussels", q=f"{GIVEN} {FAMILY}")
        people = [
            {k: m[k] for k in ("person_id", "given_name", "family_name", "birth_date")} for m in home.members
        ]
        await gateway.post(me, "/api/duplicates/check", {"members": people})
        await send_invitation(gateway, me, home, at=soon(60), channels=("email",))
    finally:
        await gateway.aclose()

    async def mailed() -> bool:
        return e_mail_to(platform, EMAIL)

    await eventually(mailed, what="the invitation's e-mail")

    invitations = platform.topic("icam.invitation.events")

    async def the_whole_path() -> list[ReceivedSpan] | None:
        spans = receiver.spans(trace_id)
        names = {(s.service, s.name) for s in spans}
        wanted = {
            ("invitation", f"send {invitations}"),
            ("notification", f"process {invitations}"),
            ("notification", "deliver email"),
        }
        # a parent ends after its children, so it may reach the receiver a batch later: the whole
        # tree, every span's parent the test's own span or another span of the trace
        ids = {s.span_id for s in spans} | {root}
        return spans if wanted <= names and all(s.parent_span_id in ids for s in spans) else None

    spans = await eventually(the_whole_path, timeout=30, what="the journey's spans at the receiver")

    services = {s.service for s in spans}
    assert {"gateway", "invitation", "notification"} <= services, services
    assert len({s.span_id for s in spans}) == len(spans) and {s.trace_id for s in spans} == {trace_id}
    delivered = next(s for s in spans if s.service == "notification" and s.name == "deliver email")
    path = [(s.service, s.kind, s.name) for s in chain(spans, delivered)]
    kinds = [(service, kind) for service, kind, _ in path]
    assert ("notification", "consumer") in kinds and ("invitation", "producer") in kinds, path
    assert ("invitation", "server") in kinds and ("gateway", "server") in kinds, path
    consumed = next(s for s in spans if s.name == f"process {invitations}" and s.service == "notification")
    sent = next(s for s in spans if s.span_id == consumed.parent_span_id)
    assert (sent.service, sent.kind, sent.name) == ("invitation", "producer", f"send {invitations}")
    assert consumed.attributes["icam.event_type"] == "InvitationSent"
    # what the sending appended (NotificationSent) continues the trace, as the relay's record does
    recorded = [s for s in spans if s.parent_span_id == delivered.span_id and s.name.startswith("append ")]
    assert [s.service for s in recorded] == ["notification"], [s.name for s in spans]
    # nothing the journey's spans say names the person: not a query, body, SQL parameter or payload
    said = [s.said() for s in receiver.spans()]
    assert [json.dumps(text) for text in said if names_the_person(text)] == []
