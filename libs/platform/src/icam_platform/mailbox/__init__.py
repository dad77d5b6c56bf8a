"""The development mailbox: an SMTP sink, an SMS provider sink and the letters, in one local process.

Only the local platform (`icam up`) runs it, and only it sets `ICAM_DEV_MAILBOX=1`; the process
refuses to start without that flag, and no production deployment file (compose, Kubernetes)
mentions it. `ICAM_DEV_MAILBOX=0 icam up` leaves it out and keeps your own `SMTP_*` and
`SMS_PROVIDER_URL`. The HTTP API is described in this folder's README.md.

This module stays light (no web framework): `icam_platform.platform` imports it to plan processes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FLAG = "ICAM_DEV_MAILBOX"
APP = "icam_platform.mailbox.app:create_app"
HTTP_PORT = 8190  # the notification service's default SMS_PROVIDER_URL port
SMTP_PORT = 1025  # the notification service's default SMTP_PORT
WEB_PORT = 8105  # the browser workspace, allowed to read the API from the browser (CORS)


class NotForProduction(RuntimeError):
    """The mailbox was asked to run outside a local platform."""


def enabled() -> bool:
    """Whether `icam up` runs the mailbox: yes, unless ICAM_DEV_MAILBOX=0."""
    return os.environ.get(FLAG, "1") != "0"


def environment(port_offset: int) -> dict[str, str]:
    """What the platform's processes get when the mailbox runs: the flag, and where to send."""
    if not enabled():
        return {}
    return {
        FLAG: "1",
        "ICAM_MAILBOX_SMTP_PORT": str(SMTP_PORT + port_offset),
        "ICAM_MAILBOX_CORS_ORIGINS": f"http://127.0.0.1:{WEB_PORT + port_offset},"
        f"http://localhost:{WEB_PORT + port_offset}",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(SMTP_PORT + port_offset),
        "SMTP_USERNAME": "",
        "SMTP_PASSWORD": "",
        "SMTP_STARTTLS": "false",
        "SMS_PROVIDER_URL": f"http://127.0.0.1:{HTTP_PORT + port_offset}/sms/messages",
        "SMTP_DELIVERY_CHECK_URL": f"http://127.0.0.1:{HTTP_PORT + port_offset}/api/delivered",
        "SMS_PROVIDER_TOKEN": "",
        "ICAM_MAILBOX_URL": f"http://127.0.0.1:{HTTP_PORT + port_offset}",  # the workspace's page
    }


def folder(home: Path) -> Path:
    """Where the mailbox keeps its messages under the platform's state folder."""
    return home / "mailbox"


@dataclass(frozen=True)
class MailboxSettings:
    """The mailbox process's configuration, from the environment the platform gives it."""

    folder: Path
    home: Path
    smtp_port: int
    kafka_bootstrap: str | None
    notification_url: str | None
    topic_prefix: str
    cors_origins: tuple[str, ...]
    smtp_host: str = "127.0.0.1"

    @classmethod
    def from_env(cls) -> MailboxSettings:
        env = os.environ.get
        if env(FLAG) != "1":
            raise NotForProduction(f"the development mailbox runs only in a local platform ({FLAG}=1)")
        home = Path(env("ICAM_HOME", ".icam")).resolve()
        return cls(
            folder=Path(env("ICAM_MAILBOX_DIR") or folder(home)),
            home=home,
            smtp_port=int(env("ICAM_MAILBOX_SMTP_PORT", str(SMTP_PORT))),
            kafka_bootstrap=env("KAFKA_BOOTSTRAP_SERVERS") or None,
            notification_url=env("NOTIFICATION_URL") or None,
            topic_prefix=env("ICAM_TOPIC_PREFIX", ""),
            cors_origins=tuple(o for o in env("ICAM_MAILBOX_CORS_ORIGINS", "").split(",") if o),
        )
