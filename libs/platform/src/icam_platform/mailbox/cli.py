"""`icam mail`: what the local platform sent, read from the mailbox's file (works while it is down).

icam mail [--kind email|sms|letter] [-n 30]   newest first
icam mail show N [--save DIR]                 one message; --save writes its attachments (letters' PDFs)
"""

from __future__ import annotations

import argparse
import textwrap
from pathlib import Path
from typing import Any

from icam_platform import mailbox
from icam_platform.mailbox.store import KINDS, MailStore
from icam_platform.settings import InfraSettings


def register_commands(commands: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    mail = commands.add_parser("mail", help="what the local platform sent: e-mails, SMS, letters")
    mail.add_argument("--kind", choices=KINDS)
    mail.add_argument("-n", "--limit", type=int, default=30)
    mail.set_defaults(func=list_messages)
    shows = mail.add_subparsers(dest="mail_command")
    show_cmd = shows.add_parser("show", help="one message, with its text and attachments")
    show_cmd.add_argument("number", type=int, help="the # column of `icam mail`")
    show_cmd.add_argument("--save", metavar="DIR", help="write the attachments (letters' PDFs) there")
    show_cmd.set_defaults(func=show_message)


def _store(args: argparse.Namespace) -> MailStore | None:
    home = InfraSettings.from_env(Path(args.home) if args.home else None).home
    folder = mailbox.folder(home)
    if not (folder / "mailbox.sqlite3").exists():
        print(f"no mailbox yet at {folder}: `icam up` starts it (unless {mailbox.FLAG}=0)")
        return None
    return MailStore(folder)


def list_messages(args: argparse.Namespace) -> int:
    store = _store(args)
    if store is None:
        return 1
    counts = store.counts()
    print(", ".join(f"{n} {kind}" for kind, n in counts.items()) + " kept")
    print(f"{'#':>5}  {'received (UTC)':<19}  {'kind':<6}  {'lang':<4}  {'to':<32}  subject / text")
    for m in store.list(args.kind, args.limit):
        detail = store.get(m["id"]) or {}
        what = m["subject"] or detail.get("body", "")
        files = f"  [{', '.join(a['filename'] for a in m['attachments'])}]" if m["attachments"] else ""
        print(
            f"{m['id']:>5}  {m['received_at'][:19].replace('T', ' '):<19}  {m['kind']:<6}  "
            f"{m['language'] or '-':<4}  {_cut(m['to'], 32):<32}  {_cut(what, 60)}{files}"
        )
    return 0


def show_message(args: argparse.Namespace) -> int:
    store = _store(args)
    if store is None:
        return 1
    message = store.get(args.number)
    if message is None:
        print(f"no message {args.number}")
        return 1
    print(_render(message))
    if args.save:
        for saved in _save_attachments(store, message, Path(args.save)):
            print(f"saved {saved}")
    return 0


def _render(m: dict[str, Any]) -> str:
    lines = [
        f"#{m['id']} {m['kind']} received {m['received_at']}",
        f"To:        {m['to']}",
        *([f"From:      {m['sender']}"] if m["sender"] else []),
        *([f"Subject:   {m['subject']}"] if m["subject"] else []),
        f"Language:  {m['language'] or '-'}",
        f"Notification: {m['notification_id'] or '-'}",
        *([f"Message-ID: {m['message_id']}"] if m["message_id"] else []),
        "",
        m["body"],
    ]
    for a in m["attachments"]:
        lines.append(f"[attachment {a['position']}] {a['filename']} ({a['content_type']}, {a['size']} bytes)")
    return "\n".join(lines)


def _save_attachments(store: MailStore, message: dict[str, Any], folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    saved = []
    for ref in message["attachments"]:
        found = store.attachment(message["id"], ref["position"])
        if found is not None:
            path = folder / Path(found.filename).name
            path.write_bytes(found.content)
            saved.append(path)
    return saved


def _cut(text: str, width: int) -> str:
    flat = " ".join(text.split())
    return textwrap.shorten(flat, width, placeholder="…") if len(flat) > width else flat
