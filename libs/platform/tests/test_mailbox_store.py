"""The development mailbox keeps what the sinks received, across restarts, as the providers promise."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest

from icam_platform.mailbox.intake import SmsRejected, parse_email, sms_delivery
from icam_platform.mailbox.store import Attachment, Delivery, MailStore

pytestmark = pytest.mark.unit


def an_email(notification_id: str = "92e46187-db3b-4075-94cc-70b3c2d14ef8") -> bytes:
    mail = EmailMessage()
    mail["From"] = "ICAM <icam-notifications@localhost>"
    mail["To"] = "a.example@example.org"
    mail["Subject"] = "Uitnodiging: afspraak met een ICAM-coach"
    mail["Message-ID"] = f"<{notification_id}@notification.icam.local>"
    mail["X-ICAM-Notification-Id"] = notification_id
    mail.set_content("Beste,\n\nU bent uitgenodigd.")
    mail["Content-Language"] = "nl"
    mail.add_attachment(b"%PDF-1.4 test", maintype="application", subtype="pdf", filename="brief.pdf")
    return mail.as_bytes()


def test_an_email_is_read_for_its_subject_language_notification_text_and_attachments() -> None:
    delivery = parse_email(an_email(), ["a.example@example.org"])
    assert delivery.subject == "Uitnodiging: afspraak met een ICAM-coach"
    assert delivery.language == "nl"
    assert delivery.notification_id == "92e46187-db3b-4075-94cc-70b3c2d14ef8"
    assert delivery.body.startswith("Beste,")
    assert [(a.filename, a.content_type, a.content) for a in delivery.attachments] == [
        ("brief.pdf", "application/pdf", b"%PDF-1.4 test")
    ]


def test_every_email_is_kept_even_a_second_copy_with_the_same_message_id(tmp_path: Path) -> None:
    store = MailStore(tmp_path)
    first, _ = store.add(parse_email(an_email(), ["a.example@example.org"]))
    second, created = store.add(parse_email(an_email(), ["a.example@example.org"]))
    assert created and second == first + 1
    assert store.counts()["email"] == 2


def test_an_sms_is_kept_once_per_idempotency_key(tmp_path: Path) -> None:
    store = MailStore(tmp_path)
    payload = {
        "to": "+32470123456",
        "text": "Rendez-vous mercredi 10:00",
        "reference": "n-1",
        "language": "fr",
    }
    first, created = store.add(sms_delivery(payload, "n-1"))
    again, created_again = store.add(sms_delivery(payload, "n-1"))
    assert (created, created_again, again) == (True, False, first)
    assert store.get(first)["language"] == "fr"  # type: ignore[index]


def test_an_sms_without_a_number_or_text_is_refused() -> None:
    with pytest.raises(SmsRejected):
        sms_delivery({"to": "+32470123456"}, "k")


def test_messages_are_kept_across_restarts_and_listed_newest_first(tmp_path: Path) -> None:
    store = MailStore(tmp_path)
    letter = Delivery(
        kind="letter",
        recipient="Rue Haute 120, 1000 Bruxelles",
        subject="Invitation",
        body="Madame, Monsieur,",
        dedupe_key="letter:n-2",
        attachments=[Attachment("letter-INV-1.pdf", "application/pdf", b"%PDF")],
    )
    store.add(sms_delivery({"to": "+32470123456", "text": "hello"}, "n-1"))
    store.add(letter)
    store.close()

    reopened = MailStore(tmp_path)
    listed = reopened.list()
    assert [m["kind"] for m in listed] == ["letter", "sms"]
    assert listed[0]["attachments"][0]["url"] == f"/api/messages/{listed[0]['id']}/attachments/0"
    assert reopened.attachment(listed[0]["id"], 0) == Attachment(
        "letter-INV-1.pdf", "application/pdf", b"%PDF"
    )
    assert reopened.list(kind="sms", limit=5)[0]["to"] == "+32470123456"
    assert reopened.list(before=listed[0]["id"])[0]["kind"] == "sms"
