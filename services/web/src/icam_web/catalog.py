"""The interface's messages, found in the templates and the Python sources, and the .po catalogues
kept in step with them: `python -m icam_web.catalog` adds new messages to every catalogue (keeping
the translations already there) and lists what is still untranslated."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from icam_web import actions, duplicates, pages, problems
from icam_web.i18n import LANGUAGES, LOCALE_DIR
from icam_web.labels import LABELS
from icam_web.routes import case_actions

HERE = Path(__file__).parent
STRING = r'"((?:[^"\\]|\\.)*)"|\'((?:[^\'\\]|\\.)*)\''
CALL = re.compile(r"(?:(?<![A-Za-z0-9_.])_|(?<![A-Za-z])gettext)\(\s*(?:" + STRING + ")")
PLURAL = re.compile(r"ngettext\(\s*(?:" + STRING + r")\s*,\s*(?:" + STRING + ")")


def _first(groups: tuple[str, ...]) -> str:
    return next(g for g in groups if g)


def messages() -> tuple[list[str], list[tuple[str, str]]]:
    """(singular messages, plural pairs) in the order they first appear."""
    singles: dict[str, None] = {}
    plurals: dict[tuple[str, str], None] = {}
    sources = sorted(HERE.glob("templates/*.html")) + sorted(HERE.glob("**/*.py"))
    for path in sources:
        text = path.read_text(encoding="utf-8")
        for match in CALL.finditer(text):
            singles[_first(match.groups())] = None
        for match in PLURAL.finditer(text):
            g = match.groups()
            plurals[(_first(g[:2]), _first(g[2:]))] = None
    for kind in LABELS.values():
        singles.update(dict.fromkeys(kind.values()))
    singles.update(dict.fromkeys(text for menu in pages.MENUS.values() for _, text in menu))
    singles[pages.DEV_MAILBOX[1]] = None
    singles.update(dict.fromkeys(actions.DONE.values()))
    singles.update(dict.fromkeys(case_actions.TOPICS))
    singles.update(dict.fromkeys(problems._VALIDATION.values()))
    singles.update(dict.fromkeys(problems.KINDS.values()))
    singles.update(dict.fromkeys(duplicates.REASON_MESSAGES))
    return list(singles), list(plurals)


def update() -> dict[str, list[str]]:
    """Add missing messages to each catalogue; returns the untranslated ones per language."""
    singles, plurals = messages()
    missing: dict[str, list[str]] = {}
    for language in LANGUAGES:
        if language == "en":
            continue
        path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
        catalog = read_po(path.open("rb"), locale=language) if path.exists() else Catalog(locale=language)
        fresh = Catalog(locale=language, project="icam-web", charset="utf-8")
        for message in singles:
            old = catalog.get(message)
            fresh.add(message, old.string if old else "")
        for pair in plurals:
            old = catalog.get(pair)
            fresh.add(pair, old.string if old else ("", ""))
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, fresh, width=0, omit_header=False, sort_output=False)
        missing[language] = [str(m.id) for m in fresh if m.id and not _translated(m.string)]
    return missing


def _translated(string: str | tuple[str, ...] | list[str] | None) -> bool:
    return all(string) if isinstance(string, tuple | list) else bool(string)


if __name__ == "__main__":
    for language, untranslated in update().items():
        print(f"{language}: {len(untranslated)} untranslated")
    sys.exit(0)
