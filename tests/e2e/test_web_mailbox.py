"""The development mailbox in the workspace: a developer sees every e-mail, SMS and letter the
local platform sent — the letter the platform itself printed for an invitation, an e-mail and an
SMS that reached the mailbox's own sinks — with its content, language and attachments."""

from __future__ import annotations

import smtplib
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from icam_platform.journeys import Gateway, coach, household, send_invitation, soon
from icam_testing.browser import Visitor, off_thread
from icam_testing.platform_under_test import DevMailbox, PlatformUnderTest

pytestmark = pytest.mark.e2e


async def invite_by_letter(platform: PlatformUnderTest, family: str) -> None:
    gw = Gateway(platform.gateway_url, platform.issuer.mint)
    try:
        home = household(name=family)
        await send_invitation(
            gw, coach("demo-coach-brussels-2"), home, at=soon(600), channels=("postal_letter",)
        )
    finally:
        await gw.aclose()


def letter_for(dev: DevMailbox, family: str, timeout: float = 60) -> dict[str, Any]:
    """The letter the mailbox collected from the platform (it follows the notification topic)."""
    deadline = time.monotonic() + timeout
    while True:
        found = httpx.get(f"{dev.url}/api/messages", params={"kind": "letter", "limit": 500}).json()
        letter = next((m for m in found["messages"] if family in m["to"]), None)
        if letter is not None:
            return dict(letter)
        assert time.monotonic() < deadline, f"no letter for {family} in the mailbox"
        time.sleep(0.5)


def send_mail_and_sms(dev: DevMailbox, tag: str, phone: str) -> None:
    """What the notification service sends to the mailbox's sinks, sent here the same way."""
    mail = EmailMessage()
    mail["From"], mail["To"], mail["Subject"] = (
        "icam@example.org",
        f"{tag.lower()}@example.org",
        f"Invitation {tag}",
    )
    mail.set_content(f"Beste {tag}, u bent uitgenodigd.")
    mail["Content-Language"] = "nl"  # after the content: setting it clears the Content-* headers
    with smtplib.SMTP("127.0.0.1", dev.smtp_port) as smtp:
        smtp.send_message(mail)
    sms = {"to": phone, "text": f"Rappel {tag}", "reference": tag, "language": "fr"}
    httpx.post(f"{dev.url}/sms/messages", json=sms, headers={"Idempotency-Key": tag}).raise_for_status()


def test_a_developer_reads_every_message_the_platform_sent_in_the_workspace(
    visitors: Callable[..., Visitor], platform_under_test: PlatformUnderTest
) -> None:
    dev = platform_under_test.dev_mailbox
    assert dev is not None
    tag, phone = "Mbx" + uuid.uuid4().hex[:6], f"+32470{uuid.uuid4().int % 10**6:06d}"
    off_thread(invite_by_letter(platform_under_test, tag))
    letter = letter_for(dev, tag)
    send_mail_and_sms(dev, tag, phone)

    me = visitors("demo-coach-brussels-2")
    me.sign_in("/dev/mailbox")
    me.choose_language("en")
    page = me.page
    assert page.locator("nav a", has_text="Mailbox (development)").count() == 1
    ours = [
        r for r in page.locator("tbody tr[data-kind]").all() if tag in (t := r.inner_text()) or phone in t
    ]
    assert sorted(r.get_attribute("data-kind") or "" for r in ours) == [
        "email",
        "letter",
        "sms",
    ]
    me.seen("mailbox 01 what the platform sent (en)")

    me.visit("/dev/mailbox?kind=sms")
    assert {r.get_attribute("data-kind") for r in page.locator("tbody tr[data-kind]").all()} == {"sms"}

    me.visit(f"/dev/mailbox/{letter['id']}")
    assert tag in page.locator("[data-body]").inner_text()  # the letter's text as printed
    href = page.locator("[data-attachment]").first.get_attribute("href")
    pdf = page.request.get(me.web_url + str(href))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    me.seen("mailbox 02 a letter with its PDF (en)")

    email = page.locator("tbody tr[data-kind=email]", has_text=tag)
    me.visit("/dev/mailbox?kind=email")
    email.locator("a").first.click()
    page.wait_for_url("**/dev/mailbox/*")
    assert "u bent uitgenodigd" in page.locator("[data-body]").inner_text() and "Dutch" in me.text()
    me.seen("mailbox 03 an e-mail with its headers (en)")
