"""Delivery against real peers on loopback: an SMTP server and an SMS provider over HTTP, with the
service's tables in a real PostgreSQL. Events enter through the kernel's idempotent inbox."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

import notification_samples as s
import pypdf
import pytest

from icam_contracts.reference import DEFAULT_REFERENCE_DATA
from icam_kernel.application import Application
from icam_kernel.events import Actor
from icam_kernel.inbox import IdempotentConsumer
from icam_kernel.migrations import apply_migrations
from icam_kernel.projections import INLINE, register_projection
from icam_kernel.service import ServiceSettings
from icam_kernel.store import EventStore
from icam_notification import directory
from icam_notification.app import MIGRATIONS
from icam_notification.channels import HttpSmsSender, PdfLetterSender, SmtpSender
from icam_notification.config import Settings, SmsSettings, SmtpSettings
from icam_notification.dispatcher import Dispatcher
from icam_notification.domain import RetryPolicy
from icam_notification.messages import ContactInfo
from icam_notification.projections import DeliveryStats
from icam_notification.reactions import Reactions

pytestmark = pytest.mark.integration


class Harness:
    """The service's parts without Kafka: inbox → reactions → ledger → dispatcher → peers."""

    def __init__(self, pool: Any, smtp: Any, sms: Any, lease: timedelta = timedelta(seconds=30)) -> None:
        self.pool = pool
        settings = Settings(
            service=ServiceSettings("notification", "unused", "unused"),
            smtp=SmtpSettings(host=smtp.host, port=smtp.port),
            sms=SmsSettings(url=sms.url),
        )
        self.store = EventStore("notification-test", inline_projections=[DeliveryStats()])
        system = Actor(id="icam-notification", role="system", organisation="immigration_office")
        self.application = Application(self.store, lambda: pool, system)
        self.reactions = Reactions(settings, DEFAULT_REFERENCE_DATA, self.application, lambda: None)
        self.inbox = IdempotentConsumer(pool, "notification-test", self.reactions.table())
        self.senders = {
            "email": SmtpSender(settings.smtp, reply_to=settings.atd_email),
            "sms": HttpSmsSender(settings.sms),
            "postal_letter": PdfLetterSender(pool, DEFAULT_REFERENCE_DATA, ContactInfo()),
        }
        self.lease = lease

    def dispatcher(self, lease: timedelta | None = None) -> Dispatcher:
        from icam_contracts.enums import Channel

        senders = {Channel(k): v for k, v in self.senders.items()}
        policy = RetryPolicy(max_attempts=3, first_delay=timedelta(milliseconds=50))
        return Dispatcher(self.pool, self.application, senders, retry=policy, lease=lease or self.lease)

    async def know(self, *members: Any) -> None:
        """Put a household in the directory, as an earlier InvitationSent or CaseOpened would."""
        async with self.pool.acquire() as conn:
            await directory.learn(conn, s.invitation_sent(*members))

    async def consume(self, event: Any, **options: Any) -> Any:
        message = s.recorded(event, **options)
        await self.inbox.handle_once(message)
        return message

    async def dispatch_all(self, rounds: int = 40) -> None:
        """Dispatch until nothing is pending (retries wait for their due time)."""
        dispatcher = self.dispatcher()
        for _ in range(rounds):
            await dispatcher.dispatch_due()
            async with self.pool.acquire() as conn:
                waiting = await conn.fetchval(
                    "select count(*) from notifications where status in ('pending', 'retrying')"
                )
            if not waiting:
                return
            await asyncio.sleep(0.05)
        raise AssertionError("notifications still pending")

    async def rows(self) -> list[Any]:
        async with self.pool.acquire() as conn:
            return list(
                await conn.fetch("select * from notifications order by template, channel, recipient_id")
            )

    async def events(self) -> list[Any]:
        async with self.pool.acquire() as conn:
            return list(
                await conn.fetch("select stream_id, event_type, data from events order by global_position")
            )


@pytest.fixture
async def harness(pg_pool, smtp_server, sms_provider) -> Harness:
    await apply_migrations(pg_pool, MIGRATIONS)
    async with pg_pool.acquire() as conn:
        await register_projection(conn, DeliveryStats(), INLINE)
    return Harness(pg_pool, smtp_server, sms_provider)


async def test_an_invitation_is_emailed_in_the_persons_language_and_posted_as_a_one_page_letter(
    harness, smtp_server
):
    await harness.consume(s.invitation_sent(s.person(language="nl"), channels=("email",)))
    await harness.dispatch_all()

    (mail,) = smtp_server.to("amina@example.org")
    assert mail["Content-Language"] == "nl"
    assert (
        str(mail["Subject"])
        .strip()
        .startswith("Uitnodiging: afspraak met een ICAM-coach op woensdag 11 maart 2026")
    )
    assert "icamsupport@ibz.fgov.be" in mail.get_content()
    rows = await harness.rows()
    assert [(r["channel"], r["status"], r["language"]) for r in rows] == [
        ("email", "sent", "nl"),
        ("postal_letter", "sent", "nl"),
    ]
    async with harness.pool.acquire() as conn:
        pdf = await conn.fetchval(
            "select pdf from letters where notification_id = $1", rows[1]["notification_id"]
        )
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "Uitnodiging" in text and "Rue Haute 120" in text and "02/488.97.77" in text


async def test_redelivery_of_the_same_event_sends_nothing_twice(harness, smtp_server, sms_provider):
    event = s.invitation_sent(s.person(email=None), channels=("sms",))
    first = await harness.consume(event)
    await harness.dispatch_all()
    await harness.inbox.handle_once(first)  # the same event again, as Kafka may redeliver it
    other_consumer = IdempotentConsumer(harness.pool, "replayed-topic", harness.reactions.table())
    await other_consumer.handle_once(first)  # past the inbox too: the unique key still holds
    await harness.dispatch_all()

    assert len(sms_provider.messages) == 1 and sms_provider.requests == 1
    assert len(await harness.rows()) == 2  # one SMS, one letter
    sent = [e for e in await harness.events() if e["event_type"] == "NotificationSent"]
    assert len(sent) == 2


async def test_a_rescheduled_invitation_tells_the_household_the_new_time_on_the_invitations_channels(
    harness, smtp_server
):
    await harness.consume(s.invitation_sent(s.person(postal_code=None), channels=("email",)))
    await harness.dispatch_all()

    await harness.consume(s.rescheduled())
    await harness.dispatch_all()

    rows = {r["template"]: r for r in await harness.rows()}
    assert rows["reschedule_notice"]["status"] == "sent" and rows["reschedule_notice"]["channel"] == "email"
    mails = smtp_server.to("amina@example.org")
    assert len(mails) == 2 and mails[1]["Subject"] != mails[0]["Subject"]


async def test_a_cancelled_invitation_tells_the_household_it_no_longer_holds(harness, smtp_server):
    await harness.consume(s.invitation_sent(s.person(postal_code=None), channels=("email",)))
    await harness.dispatch_all()

    await harness.consume(s.cancelled())
    await harness.dispatch_all()

    rows = {r["template"]: r for r in await harness.rows()}
    assert rows["cancellation_notice"]["status"] == "sent"
    assert len(smtp_server.to("amina@example.org")) == 2


async def test_a_transient_sms_failure_is_retried_then_sent(harness, sms_provider):
    sms_provider.fail_next = [503]
    await harness.know(s.person())
    await harness.consume(s.reminder())
    await harness.dispatch_all()

    (row,) = await harness.rows()
    assert (row["status"], row["attempts"]) == ("sent", 2)
    events = [(e["event_type"], e["data"].count('"will_retry": true')) for e in await harness.events()]
    assert events == [("NotificationFailed", 1), ("NotificationSent", 0)]


async def test_a_permanent_smtp_rejection_fails_with_the_reason_and_falls_back_to_sms(
    harness, smtp_server, sms_provider
):
    smtp_server.refuse["amina@example.org"] = "550 5.1.1 mailbox unavailable"
    await harness.know(s.person())
    await harness.consume(s.outcome("legal_stay_possible"))
    await harness.dispatch_all()

    rows = {r["channel"]: r for r in await harness.rows()}
    assert (
        rows["email"]["status"] == "failed" and rows["email"]["last_error"] == "SMTP 550: recipient refused"
    )
    assert rows["sms"]["status"] == "sent" and rows["postal_letter"]["status"] == "sent"
    (failed,) = [e for e in await harness.events() if e["event_type"] == "NotificationFailed"]
    assert '"will_retry": false' in failed["data"]
    assert "légal" in next(iter(sms_provider.messages.values()))["text"]


async def test_a_person_nobody_can_reach_is_recorded_as_unreachable(harness):
    await harness.consume(s.closed("lost_contact"), event_id=None)  # no directory entry: nobody
    assert await harness.rows() == []
    ghost = s.person(email=None, phone=None, postal_code=None)
    await harness.consume(s.invitation_sent(ghost))
    (row,) = await harness.rows()
    assert row["status"] == "failed" and "unreachable" in row["last_error"]


async def test_a_referral_emails_the_partner_without_personal_data_and_tells_the_person(harness, smtp_server):
    await harness.consume(s.referred())
    await harness.dispatch_all()

    (partner_mail,) = smtp_server.to("icam-referrals@fedasil.example")
    assert partner_mail["Content-Language"] == "fr"
    assert "Amina" not in partner_mail.get_content() and "REF-81D35076" in partner_mail["Subject"]
    (person_mail,) = smtp_server.to("amina@example.org")
    assert "Fedasil" in person_mail["Subject"]


async def test_delivery_statistics_count_per_channel_and_language(harness, smtp_server):
    smtp_server.refuse["amina@example.org"] = "550 no such user"
    await harness.know(s.person())
    await harness.consume(s.outcome("return_refused"))
    await harness.dispatch_all()
    async with harness.pool.acquire() as conn:
        stats = {
            (r["channel"], r["language"]): (r["sent"], r["failed"])
            for r in await conn.fetch("select * from delivery_stats")
        }
    assert stats == {("email", "fr"): (0, 1), ("sms", "fr"): (1, 0), ("postal_letter", "fr"): (1, 0)}
