"""Letters, collected the way another system would: from the public topic and the public API.

The notification service keeps each postal letter as a PDF in its own database (the `letters`
table, for the print-and-post run) and serves it at `GET /notifications/{id}/pdf`. The mailbox
follows `icam.notification.events` with its own consumer group, and for every `NotificationSent`
on the `postal_letter` channel fetches the letter and its text over HTTP with a token of the
local issuer. It never reads the service's tables, so a change of schema there cannot break it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import httpx
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord

from icam_contracts import TOLERANT, EventEnvelope, parse_envelope
from icam_contracts.events import NotificationSent
from icam_contracts.topics import NOTIFICATION_EVENTS
from icam_platform.mailbox.store import Attachment, Delivery, MailStore

log = structlog.get_logger(__name__)

GROUP = "icam-dev-mailbox"
MAX_BACKOFF = 30.0


class LetterUnavailable(Exception):
    """The notification service cannot hand the letter over now (down, starting, refusing)."""


class LetterGone(Exception):
    """The notification service no longer has the letter (erased): nothing to wait for."""


@dataclass
class LetterCollector:
    """Copies every letter the notification service sent into the mailbox, once."""

    store: MailStore
    bootstrap: str
    notification_url: str
    token: Callable[[], str]
    topic_prefix: str = ""
    transport: httpx.AsyncBaseTransport | None = None  # tests stand in for the notification API

    async def run(self) -> None:
        """Follow the topic until cancelled; a record's offset is committed once its letter is kept."""
        consumer = AIOKafkaConsumer(
            self.topic_prefix + NOTIFICATION_EVENTS,
            bootstrap_servers=self.bootstrap,
            group_id=self.topic_prefix + GROUP,  # platforms sharing a broker never share it
            enable_auto_commit=False,
            auto_offset_reset="earliest",
        )
        await consumer.start()
        try:
            async with httpx.AsyncClient(
                base_url=self.notification_url, timeout=10, transport=self.transport
            ) as http:
                async for record in consumer:
                    await self._until_kept(http, record)
                    await consumer.commit()
        finally:
            await consumer.stop()

    async def _until_kept(self, http: httpx.AsyncClient, record: ConsumerRecord[bytes, bytes]) -> None:
        backoff = 0.5
        while True:
            try:
                await self.collect(http, record)
                return
            except (LetterUnavailable, httpx.HTTPError) as error:
                log.info("mailbox_letter_retry", error=str(error), backoff=backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF)

    async def collect(self, http: httpx.AsyncClient, record: ConsumerRecord[bytes, bytes]) -> None:
        """Keep the letter `record` announces, if it announces one not yet kept."""
        headers = {key: value.decode() for key, value in record.headers}
        if headers.get("event_type") != "NotificationSent" or record.value is None:
            return
        event = parse_envelope(EventEnvelope.model_validate_json(record.value, context=TOLERANT))
        assert isinstance(event, NotificationSent)
        key = f"letter:{event.notification_id}"
        if event.channel != "postal_letter" or await asyncio.to_thread(self.store.has, key):
            return
        try:
            delivery = await self.fetch(http, event, key)
        except LetterGone:
            log.warning("mailbox_letter_gone", notification_id=str(event.notification_id))
            return
        message, _ = await asyncio.to_thread(self.store.add, delivery)
        log.info("mailbox_letter_stored", message=message, notification_id=str(event.notification_id))

    async def fetch(self, http: httpx.AsyncClient, event: NotificationSent, key: str) -> Delivery:
        """The letter's text and PDF, from the notification service's API."""
        auth = {"authorization": f"Bearer {self.token()}"}
        path = f"/notifications/{event.notification_id}"
        detail, pdf = await http.get(path, headers=auth), await http.get(f"{path}/pdf", headers=auth)
        for response in (detail, pdf):
            if response.status_code == 404:
                raise LetterGone(response.request.url.path)
            if response.status_code != 200:
                raise LetterUnavailable(f"GET {response.request.url.path}: HTTP {response.status_code}")
        notice = detail.json()
        return Delivery(
            kind="letter",
            recipient=", ".join((notice.get("address") or "").splitlines()),
            subject=notice.get("subject"),
            language=str(event.language),
            notification_id=str(event.notification_id),
            body=notice.get("body") or "",
            dedupe_key=key,
            attachments=[
                Attachment(f"letter-{notice.get('reference', key)}.pdf", "application/pdf", pdf.content)
            ],
        )
