"""Only the local platform runs the development mailbox, and it points the notification service at it."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from icam_platform import mailbox, platform
from icam_platform.mailbox import MailboxSettings, NotForProduction
from icam_platform.mailbox import cli as mail
from icam_platform.mailbox.intake import sms_delivery
from icam_platform.mailbox.store import Attachment, Delivery, MailStore

pytestmark = pytest.mark.unit

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"


def test_icam_up_starts_the_mailbox_before_the_services_unless_it_is_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ICAM_PORT_OFFSET", "2000")
    monkeypatch.delenv(mailbox.FLAG, raising=False)
    first = platform.processes()[0]
    assert (first.name, first.port, first.installed()) == ("mailbox", 10190, True)

    monkeypatch.setenv(mailbox.FLAG, "0")
    assert "mailbox" not in {p.name for p in platform.processes()}
    assert mailbox.environment(2000) == {}
    assert platform.processes(with_mailbox=True)[0].name == "mailbox"  # `down` stops it anyway


def test_the_notification_service_is_pointed_at_the_sinks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(mailbox.FLAG, raising=False)
    env = mailbox.environment(2000)
    assert env[mailbox.FLAG] == "1"
    assert (env["SMTP_HOST"], env["SMTP_PORT"], env["SMTP_STARTTLS"]) == ("127.0.0.1", "3025", "false")
    assert env["SMS_PROVIDER_URL"] == "http://127.0.0.1:10190/sms/messages"


def test_the_mailbox_refuses_to_run_without_the_development_flag(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(mailbox.FLAG, raising=False)
    with pytest.raises(NotForProduction):
        MailboxSettings.from_env()
    monkeypatch.setenv(mailbox.FLAG, "1")
    assert MailboxSettings.from_env().smtp_port == mailbox.SMTP_PORT


def test_no_production_deployment_mentions_the_mailbox() -> None:
    for path in [DEPLOY / "compose.yaml", *sorted((DEPLOY / "k8s").glob("*"))]:
        text = path.read_text()
        assert mailbox.FLAG not in text and "mailbox" not in text, path


def test_icam_mail_lists_what_was_sent_and_shows_one_with_its_attachments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    store = MailStore(mailbox.folder(tmp_path))
    store.add(sms_delivery({"to": "+32470123456", "text": "ICAM: rendez-vous", "language": "fr"}, "k1"))
    letter, _ = store.add(
        Delivery(
            kind="letter",
            recipient="Rue Haute 120, 1000 Bruxelles",
            subject="Invitation à un entretien",
            language="fr",
            body="Madame, Monsieur,",
            attachments=[Attachment("letter-INV-1.pdf", "application/pdf", b"%PDF-1.4")],
        )
    )
    home = str(tmp_path)

    assert mail.list_messages(argparse.Namespace(home=home, kind=None, limit=10)) == 0
    listing = capsys.readouterr().out
    assert "1 email" not in listing and "1 sms, 1 letter" in listing
    assert "Invitation à un entretien  [letter-INV-1.pdf]" in listing and "ICAM: rendez-vous" in listing

    shown = argparse.Namespace(home=home, number=letter, save=str(tmp_path / "out"))
    assert mail.show_message(shown) == 0
    assert "Subject:   Invitation à un entretien" in capsys.readouterr().out
    assert (tmp_path / "out" / "letter-INV-1.pdf").read_bytes() == b"%PDF-1.4"
