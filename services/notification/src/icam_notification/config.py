"""Settings from the environment, with defaults that run on a developer's machine.

Every variable is listed, with its default, in the service's README ("Configuration").
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from icam_contracts.topics import CASE_EVENTS, INVITATION_EVENTS, NOTIFICATION_EVENTS, REFERRAL_EVENTS
from icam_kernel.service import ServiceSettings
from icam_notification.domain import RetryPolicy

# [I] Placeholders until the partner catalogue carries contact addresses: override them with
# NOTIFICATION_PARTNER_CONTACTS in every real deployment.
DEFAULT_PARTNER_CONTACTS: dict[str, dict[str, str]] = {
    "fedasil": {"email": "icam-referrals@fedasil.example", "language": "fr"},
    "iom": {"email": "icam-referrals@iom.example", "language": "en"},
    "caritas_international": {"email": "icam-referrals@caritas.example", "language": "fr"},
}


def _json_env(name: str, default: Any) -> Any:
    raw = os.environ.get(name)
    return json.loads(raw) if raw else default


@dataclass(frozen=True)
class SmtpSettings:
    """Where e-mails go and how they are signed."""

    host: str = "127.0.0.1"
    port: int = 1025
    username: str | None = None
    password: str | None = None
    start_tls: bool = False
    timeout: float = 10.0
    sender: str = "ICAM <icam-notifications@localhost>"
    message_id_domain: str = "notification.icam.local"
    # where the mail server answers whether it already holds a Message-ID (GET ?message_id=): an
    # attempt cut short by a crash is then confirmed instead of sent again (the dev mailbox has it)
    delivery_check_url: str | None = None


@dataclass(frozen=True)
class SmsSettings:
    """The SMS provider's HTTP endpoint."""

    url: str = "http://127.0.0.1:8190/messages"
    token: str | None = None
    timeout: float = 10.0


@dataclass(frozen=True)
class Topics:
    """Topic names, all prefixed by ``ICAM_TOPIC_PREFIX``."""

    invitation: str = INVITATION_EVENTS
    case: str = CASE_EVENTS
    referral: str = REFERRAL_EVENTS
    notification: str = NOTIFICATION_EVENTS

    @classmethod
    def prefixed(cls, prefix: str) -> Topics:
        return cls(
            *(
                f"{prefix}{name}"
                for name in (INVITATION_EVENTS, CASE_EVENTS, REFERRAL_EVENTS, NOTIFICATION_EVENTS)
            )
        )


@dataclass(frozen=True)
class Settings:
    """Everything the notification service is configured with."""

    service: ServiceSettings
    topics: Topics = field(default_factory=Topics)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    sms: SmsSettings = field(default_factory=SmsSettings)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    lease: timedelta = timedelta(seconds=60)
    poll_interval: float = 0.5
    partner_contacts: dict[str, dict[str, str]] = field(
        default_factory=lambda: dict(DEFAULT_PARTNER_CONTACTS)
    )
    office_addresses: dict[str, str] = field(default_factory=dict)
    atd_email: str = "icamsupport@ibz.fgov.be"
    atd_phone: str = "02/488.97.77"
    consumer_prefix: str = "icam-notification"

    @classmethod
    def from_env(cls) -> Settings:
        """Settings from the environment (see the module docstring)."""
        env = os.environ.get
        return cls(
            service=ServiceSettings.from_env("notification"),
            topics=Topics.prefixed(env("ICAM_TOPIC_PREFIX", "")),
            smtp=SmtpSettings(
                host=env("SMTP_HOST", "127.0.0.1"),
                port=int(env("SMTP_PORT", "1025")),
                username=env("SMTP_USERNAME") or None,
                password=env("SMTP_PASSWORD") or None,
                start_tls=env("SMTP_STARTTLS", "false").lower() in ("1", "true", "yes"),
                sender=env("NOTIFICATION_EMAIL_FROM", SmtpSettings.sender),
                message_id_domain=env("NOTIFICATION_MESSAGE_ID_DOMAIN", SmtpSettings.message_id_domain),
                delivery_check_url=env("SMTP_DELIVERY_CHECK_URL") or None,
            ),
            sms=SmsSettings(
                url=env("SMS_PROVIDER_URL", SmsSettings.url), token=env("SMS_PROVIDER_TOKEN") or None
            ),
            retry=RetryPolicy(
                max_attempts=int(env("NOTIFICATION_MAX_ATTEMPTS", "6")),
                first_delay=timedelta(seconds=float(env("NOTIFICATION_RETRY_FIRST_SECONDS", "30"))),
                max_delay=timedelta(seconds=float(env("NOTIFICATION_RETRY_MAX_SECONDS", "3600"))),
            ),
            lease=timedelta(seconds=float(env("NOTIFICATION_LEASE_SECONDS", "60"))),
            poll_interval=float(env("NOTIFICATION_POLL_SECONDS", "0.5")),
            partner_contacts=_json_env("NOTIFICATION_PARTNER_CONTACTS", dict(DEFAULT_PARTNER_CONTACTS)),
            office_addresses=_json_env("NOTIFICATION_OFFICE_ADDRESSES", {}),
            atd_email=env("ATD_CONTACT_EMAIL", "icamsupport@ibz.fgov.be"),
            atd_phone=env("ATD_CONTACT_PHONE", "02/488.97.77"),
            consumer_prefix=env("NOTIFICATION_CONSUMER_PREFIX", "icam-notification"),
        )
