"""Message templates: one Jinja2 file per message kind and language, with three blocks.

``templates/<lang>/<kind>.j2`` defines ``subject``, ``body`` (e-mail text and letter) and
``sms`` (one short text). Rendering is strict: a key missing from the context is an error, never
an empty gap in what a person reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Final

from jinja2 import Environment, PackageLoader, StrictUndefined

from icam_contracts.enums import Language
from icam_notification import formats
from icam_notification.domain import MessageKind

LANGUAGES: Final = tuple(Language)


@dataclass(frozen=True)
class RenderedMessage:
    """The text of one message in one language."""

    subject: str
    body: str
    sms: str


@lru_cache(maxsize=1)
def environment() -> Environment:
    """The template environment (plain text: no HTML escaping; strict about missing keys)."""
    env = Environment(
        loader=PackageLoader("icam_notification", "templates"),
        undefined=StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.filters.update(
        long_date=formats.long_date,
        short_date=formats.short_date,
        clock=formats.clock,
        weekday_name=formats.weekday_name,
        language_name=formats.language_name,
    )
    return env


def _block(template: Any, name: str, context: dict[str, Any]) -> str:
    text = "".join(template.blocks[name](template.new_context(context)))
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def render(kind: MessageKind, language: Language, context: dict[str, Any]) -> RenderedMessage:
    """The subject, body and SMS text of ``kind`` in ``language``."""
    template = environment().get_template(f"{language.value}/{kind.value}.j2")
    full = {**context, "lang": language.value}
    return RenderedMessage(
        subject=" ".join(_block(template, "subject", full).split()),
        body=_block(template, "body", full),
        sms=" ".join(_block(template, "sms", full).split()),
    )
