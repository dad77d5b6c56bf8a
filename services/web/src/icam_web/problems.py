"""Problems (RFC 9457) from the gateway, turned into what a form shows: a sentence next to each field
the problem names (`field`, or `errors[].field`), a summary for the rest, and what the person can do
(409: reload and see what changed; 503/504: retry).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

Gettext = Callable[..., str]
_INDEX = re.compile(r"\[(\d+)\]")
# pydantic's validation messages, in the person's language
_VALIDATION = {
    "missing": "Enter a value.",
    "Field required": "Enter a value.",
}
# problems the services name by kind (`type` urn:icam:problem:<kind>), said in the person's language;
# the service's own sentence (English) stays for every other kind
KINDS = {
    "four-eyes-required": (
        "You proposed this outcome: another team lead of the region approves it (four eyes)."
    ),
    "unsupported-document-type": (
        "Only PDF, JPEG and PNG files are kept: this file's content is none of them."
    ),
    "payload-too-large": "The file is over the limit of 20 MB.",
    "coach-of-another-region": "The receiving coach does not work in this region.",
    "case-closed": "The case is closed: nothing more can be recorded on it.",
    "approval-pending": "An outcome awaits a team lead's approval on this case.",
    "no-such-proposal": "This proposal was already approved or sent back.",
}


def kind_of(problem: Mapping[str, Any]) -> str:
    """`urn:icam:problem:four-eyes-required` -> `four-eyes-required`."""
    return str(problem.get("type") or "").rsplit(":", 1)[-1]


def said(kind: str, message: str, gettext: Gettext) -> str:
    """A service's sentence about a problem of `kind`, in the person's language when it is known."""
    known = KINDS.get(kind)
    return gettext(known) if known else _sentence(message, gettext)


@dataclass(frozen=True)
class ProblemView:
    """A problem as a form shows it."""

    status: int
    summary: str
    fields: dict[str, str] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def conflict(self) -> bool:
        return self.status == 409

    @property
    def retry(self) -> bool:
        return self.status in (502, 503, 504)


def normalise(path: str) -> str:
    """`body.members[0].contact.email` -> `members.0.contact.email`."""
    path = _INDEX.sub(r".\1", path.strip())
    return path.removeprefix("body.").removeprefix("query.").strip(".")


def field_of(path: str, form_fields: Collection[str], aliases: Mapping[str, str]) -> str | None:
    """The form field a problem's field path names: an alias, the path itself, or its last part."""
    name = normalise(path)
    if name in aliases:
        return aliases[name]
    if name in form_fields:
        return name
    last = name.rsplit(".", 1)[-1]
    return last if last in form_fields else None


def _sentence(message: str, gettext: Gettext) -> str:
    text = _VALIDATION.get(message)
    if text:
        return gettext(text)
    message = message.strip()
    return message[0].upper() + message[1:] + ("" if message.endswith(".") else ".") if message else ""


def view_of(
    status: int,
    problem: Mapping[str, Any],
    gettext: Gettext,
    form_fields: Collection[str] = (),
    aliases: Mapping[str, str] | None = None,
) -> ProblemView:
    """Place every message of `problem` next to its field, or in the summary when no field fits."""
    aliases = aliases or {}
    fields: dict[str, str] = {}
    loose: list[str] = []
    kind = kind_of(problem)
    named = [(e.get("field", ""), str(e.get("message", ""))) for e in problem.get("errors") or []]
    errors = len(named)
    if problem.get("field"):
        named.append((str(problem["field"]), said(kind, str(problem.get("detail", "")), gettext)))
    for index, (path, message) in enumerate(named):
        target = field_of(path, form_fields, aliases) if path else None
        sentence = _sentence(message, gettext)
        if target and target not in fields:
            fields[target] = sentence
        elif not (target and index >= errors):  # the summary of errors already placed says no more
            loose.append(f"{path}: {sentence}" if path else sentence)
    summary = " ".join(loose) or (
        "" if fields else said(kind, str(problem.get("detail") or problem.get("title") or ""), gettext)
    )
    details = {k: v for k, v in problem.items() if k not in ("type", "title", "status", "detail", "errors")}
    return ProblemView(status, summary or _generic(status, gettext), fields, details)


def _generic(status: int, gettext: Gettext) -> str:
    if status in (502, 503, 504):
        return gettext("The service is unavailable for a moment. Try again in a few seconds.")
    if status == 409:
        return gettext("Someone else changed this case in the meantime.")
    if status == 403:
        return gettext("You are not allowed to do this.")
    return gettext("Something went wrong. Check the form and try again.")
