"""Possible existing households at a first contact (pure parts): who to ask the invitation service
about, its reasons in the coach's language, and the coach's decision as the command's `match`.

Before an invitation or a walk-in visit is sent, the form asks `POST /api/duplicates/check`; when
it names households, the form comes back with them and the coach links the contact to one (theirs
to see) or confirms a new household. The command then carries `match: {candidates, linked_to}`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from starlette.datastructures import FormData

NEW_HOUSEHOLD = "new"
PERSON_KEYS = ("person_id", "given_name", "family_name", "birth_date", "nationality")
# the invitation service's reasons, in English, and how the interface says them
_REASONS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^same dossier reference$"), "same dossier reference"),
    (re.compile(r"^similar name \((?P<score>[0-9.]+)\)$"), "similar name (%(score)s)"),
    (re.compile(r"^same birth date$"), "same birth date"),
    (re.compile(r"^same nationality$"), "same nationality"),
)
REASON_MESSAGES = tuple(message for _, message in _REASONS)


def people_of(members: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The people a duplicate check compares: what is known of each member, nothing else."""
    people = [{k: m[k] for k in PERSON_KEYS if m.get(k)} for m in members]
    return [p for p in people if p.get("person_id") or p.get("family_name") or p.get("given_name")]


def reason_text(reason: str, gettext: Callable[..., str]) -> str:
    """One reason in the coach's language ("similar name (0.93)" keeps its figure)."""
    for pattern, message in _REASONS:
        found = pattern.match(reason.strip())
        if found:
            return gettext(message, **found.groupdict())
    return reason


def decided(form: FormData) -> bool:
    """The coach has answered the warning (linked to a household or chose a new one)."""
    return bool(form.getlist("match_candidates")) and bool(form.get("match"))


def match_of(form: FormData) -> dict[str, Any] | None:
    """The coach's decision on the households shown, as the command's `match` (None: none shown)."""
    candidates = [str(c) for c in form.getlist("match_candidates") if str(c)]
    if not candidates:
        return None
    choice = str(form.get("match") or NEW_HOUSEHOLD)
    return {"candidates": candidates, "linked_to": None if choice == NEW_HOUSEHOLD else choice}
