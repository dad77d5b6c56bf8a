"""Rendering a page: the Jinja2 templates with the person's language, session, CSRF token and menu."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape

from icam_auth import Role
from icam_web import duplicates, i18n, problems
from icam_web.labels import LABELS
from icam_web.sessions import Session

TEMPLATES = Path(__file__).with_name("templates")
LANGUAGE_COOKIE = "icam_lang"

# in a development deployment only (`icam up`), for every role: what the platform sent
DEV_MAILBOX = ("/dev/mailbox", "Mailbox (development)")
# the menu of each role: (path, label); the first entry is where the role lands after sign-in
MENUS: dict[Role, tuple[tuple[str, str], ...]] = {
    Role.COACH: (
        ("/agenda", "Today"),
        ("/cases", "Caseload"),
        ("/invitations/new", "New invitation"),
        ("/desk", "Walk-in desk"),
    ),
    Role.TEAM_LEAD: (
        ("/team", "Region"),
        ("/team/approvals", "Approvals"),
        ("/team/agendas", "Agendas"),
        ("/team/moves", "Move cases"),
        ("/cases", "Caseload"),
        ("/desk", "Walk-in desk"),
        ("/ops", "Dashboard"),
    ),
    Role.RETURN_PARTNER: (("/partner", "Referrals"),),
    Role.OPS_VIEWER: (("/ops", "Dashboard"),),
    Role.AUDITOR: (("/audit", "Audit log"), ("/erasures", "Erasures"), ("/key-access", "Key access")),
    Role.ADMIN: (("/team", "Region"), ("/cases", "Caseload"), ("/ops", "Dashboard")),
    Role.DATA_PROTECTION_OFFICER: (
        ("/erasures", "Erasures"),
        ("/retention", "Retention"),
        ("/subjects", "Subject access"),
        ("/key-access", "Key access"),
    ),
}


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        member_options=member_names,
        member_names=member_names,
        document_options=document_options,
        element_options=element_options,
        vulnerability_options=vulnerability_options,
        translated=translated,
        listed=listed,
    )
    env.filters["flag_options"] = lambda codes, label: [(c, label("flag", c)) for c in codes]
    env.filters["pairs"] = lambda values: [(v, v) for v in values]
    env.filters["reason"] = pass_context(lambda context, text: duplicates.reason_text(text, context["_"]))
    return env


def member_names(members: list[dict[str, Any]], label: Any) -> list[tuple[str, str]]:
    """The household's present members by name (when the caller may see it) and reference."""
    return [(m["person_id"], _named(m, label)) for m in members if not m.get("left")]


def _named(member: dict[str, Any], label: Any) -> str:
    name = " ".join(p for p in (member.get("given_name"), member.get("family_name")) if p)
    role = label("member_role", member["role"])
    return f"{name} ({member['person_id']}, {role})" if name else f"{member['person_id']} ({role})"


def document_options(label: Any) -> list[tuple[str, str]]:
    return [(code, label("document", code)) for code in LABELS["document"]]


def element_options(label: Any) -> list[tuple[str, str]]:
    return [(code, label("element", code)) for code in LABELS["element"]]


def vulnerability_options(label: Any) -> list[tuple[str, str]]:
    return [(code, label("vulnerability", code)) for code in LABELS["vulnerability"]]


def translated(codes: Any, gettext: Any) -> list[tuple[str, str]]:
    return [(code, gettext(code)) for code in codes]


def listed(value: Any) -> list[str]:
    """A form value as a list (one checkbox ticked arrives as a string)."""
    if value is None or value == "":
        return []
    return [str(v) for v in value] if isinstance(value, list | tuple) else [str(value)]


def language_of(request: Request) -> i18n.Language:
    code = i18n.negotiate(
        request.cookies.get(LANGUAGE_COOKIE),
        accept_language=request.headers.get("accept-language", ""),
        default=request.app.state.settings.default_language,
    )
    return i18n.Language(code)


def current_entry(path: str, hrefs: list[str]) -> str | None:
    """The menu entry a page belongs to: the longest one its path starts with (/team/moves is not /team)."""
    found = [h for h in hrefs if path == h or (h != "/" and path.startswith(h + "/"))]
    return max(found, key=len) if found else None


def home_of(role: Role) -> str:
    return MENUS.get(role, (("/", ""),))[0][0]


def render(
    request: Request,
    template: str,
    session: Session | None,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    lang = language_of(request)

    def label(kind: str, code: Any) -> str:
        text = LABELS.get(kind, {}).get(str(code)) if code is not None else None
        return lang.gettext(text) if text else (str(code).replace("_", " ") if code else "")

    def key_label(dimension: str, key: str) -> str:
        if dimension == "month" and len(key) == 7:
            return lang.month(key)
        kinds = {"language": "language", "entry_channel": "entry_channel", "channel": "channel"}
        if dimension in kinds:
            return label(kinds[dimension], key)
        reference = request.app.state.reference
        if dimension == "region" and reference.region(key):
            names = reference.region(key).names
            return str(names.get(lang.code) or names.get("fr") or key)
        if dimension == "partner" and reference.partner(key):
            return str(reference.partner(key).name)
        return key

    entries = MENUS.get(session.role, ()) if session else ()
    if session and request.app.state.settings.mailbox_url:
        entries = (*entries, DEV_MAILBOX)
    current = current_entry(request.url.path, [href for href, _ in entries])
    menu = [(href, lang.gettext(text), href == current) for href, text in entries]
    values = {
        "request": request,
        "session": session,
        "lang": lang,
        "_": lang.gettext,
        "ngettext": lang.ngettext,
        "label": label,
        "key_label": key_label,
        "measure_label": lambda code: label("measure", code),
        "size": lang.size,
        "problem_said": lambda kind, text: problems.said(str(kind or ""), str(text or ""), lang.gettext),
        "menu": menu,
        "languages": [(code, i18n.NAMES[code]) for code in i18n.LANGUAGES],
        "csrf_token": session.csrf_token if session else "",
        "current_url": str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
        "htmx": request.headers.get("hx-request") == "true",
        **context,
    }
    html = request.app.state.templates.get_template(template).render(values)
    return HTMLResponse(html, status_code=status)


def home_of_claims(claims: dict[str, Any]) -> str:
    try:
        return home_of(Role(str(claims.get("role"))))
    except ValueError:
        return "/"
