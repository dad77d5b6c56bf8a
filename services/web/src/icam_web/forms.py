"""Reading the workspace's forms into the gateway's request bodies (pure: form values in, JSON out)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from starlette.datastructures import FormData

BRUSSELS = ZoneInfo("Europe/Brussels")
MISSING_ROWS = 3


def _text(form: FormData, name: str) -> str | None:
    value = form.get(name)
    return (value.strip() or None) if isinstance(value, str) else None


def _yes(form: FormData, name: str) -> bool | None:
    value = _text(form, name)
    return None if value is None else value in ("yes", "true", "on", "1")


def local_moment(value: str | None) -> str | None:
    """A `datetime-local` value (Brussels wall time) as an aware ISO timestamp; other text unchanged
    (the service's 422 then names the field)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BRUSSELS)
    return moment.isoformat()


def local_input(moment: str | datetime | None, seconds: bool = False) -> str:
    """An aware timestamp as the value of a `datetime-local` field, in Brussels wall time."""
    if not moment:
        return ""
    value = datetime.fromisoformat(moment) if isinstance(moment, str) else moment
    return value.astimezone(BRUSSELS).strftime("%Y-%m-%dT%H:%M:%S" if seconds else "%Y-%m-%dT%H:%M")


def interview(form: FormData) -> dict[str, Any]:
    topics = [t for t in form.getlist("topics") if isinstance(t, str) and t]
    topics += [t.strip() for t in (_text(form, "other_topics") or "").split(",") if t.strip()]
    duration = _text(form, "duration_minutes")
    return {
        "occurred_at": local_moment(_text(form, "occurred_at")),
        "kind": _text(form, "kind"),
        "language": _text(form, "language"),
        "attendees": [str(a) for a in form.getlist("attendees")],
        "interpreter_present": bool(_yes(form, "interpreter_present")),
        "interpreter_language": _text(form, "interpreter_language"),
        "topics": topics,
        "notes": _text(form, "notes"),
        "duration_minutes": int(duration) if duration and duration.isdigit() else duration,
        "missing_elements": missing_elements(form),
    }


def missing_elements(form: FormData) -> list[dict[str, Any]]:
    rows = []
    for n in range(1, MISSING_ROWS + 1):
        element = _text(form, f"element_{n}")
        if element:
            rows.append(
                {
                    "person_id": _text(form, f"element_person_{n}"),
                    "element": element,
                    "description": _text(form, f"element_description_{n}"),
                    "due_on": _text(form, f"element_due_{n}"),
                }
            )
    return rows


def interview_aliases() -> dict[str, str]:
    aliases = {}
    for n in range(MISSING_ROWS):
        for part, name in (
            ("element", "element"),
            ("person_id", "element_person"),
            ("due_on", "element_due"),
        ):
            aliases[f"missing_elements.{n}.{part}"] = f"{name}_{n + 1}"
    return aliases


def outcome(form: FormData) -> dict[str, Any]:
    chosen = _text(form, "outcome")
    body: dict[str, Any] = {
        "outcome": chosen,
        "rationale": _text(form, "rationale"),
        "communicated": _text(form, "communicated"),
        "communicated_in": _text(form, "communicated_in"),
    }
    if chosen == "legal_stay_possible":
        body["procedure_explained"] = bool(_yes(form, "procedure_explained"))
        body["stay_procedure_started"] = bool(_yes(form, "stay_procedure_started"))
    elif chosen == "return_accepted":
        body["consent_to_referral"] = _yes(form, "consent_to_referral")
        body["preferred_partner"] = _text(form, "preferred_partner")
    elif chosen == "return_refused":
        body["consequences_explained"] = bool(_yes(form, "consequences_explained"))
    revises = _text(form, "revises_decision_id")
    if revises:
        body["revises_decision_id"] = revises
        body["revision_reason"] = _text(form, "revision_reason")
    version = _text(form, "expected_version")
    if version and version.isdigit():
        body["expected_version"] = int(version)
    return body


def members(form: FormData) -> list[dict[str, Any]]:
    """The household of a new invitation or a walk-in: the adult with contact details, then minors."""
    adult: dict[str, Any] = {
        "role": "adult",
        "person_id": _text(form, "person_id"),
        "given_name": _text(form, "given_name"),
        "family_name": _text(form, "family_name"),
        "preferred_language": _text(form, "preferred_language"),
        "birth_date": _text(form, "birth_date"),
        "nationality": (_text(form, "nationality") or "").upper() or None,
    }
    contact: dict[str, Any] = {"email": _text(form, "email"), "phone": _text(form, "phone")}
    if _text(form, "street") or _text(form, "municipality"):
        contact["postal_address"] = {
            "street": _text(form, "street"),
            "house_number": _text(form, "house_number"),
            "postal_code": _text(form, "postal_code"),
            "municipality": _text(form, "municipality"),
        }
    adult["contact"] = {k: v for k, v in contact.items() if v is not None} or None
    household = [{k: v for k, v in adult.items() if v is not None}]
    for n in range(1, 4):
        reference = _text(form, f"minor_person_id_{n}")
        if reference:
            household.append(
                {
                    "role": "minor",
                    "person_id": reference,
                    "given_name": _text(form, f"minor_given_name_{n}"),
                    "birth_date": _text(form, f"minor_birth_date_{n}"),
                }
            )
    return household


MEMBER_ALIASES = {
    "members.0.person_id": "person_id",
    "members.0.given_name": "given_name",
    "members.0.family_name": "family_name",
    "members.0.birth_date": "birth_date",
    "members.0.nationality": "nationality",
    "members.0.contact.email": "email",
    "members.0.contact.phone": "phone",
    "members.0.contact.postal_address": "postal_code",
    "members.0.contact.postal_address.postal_code": "postal_code",
    "members.0.contact.postal_address.country": "postal_code",
    "members.0.contact.postal_address.street": "street",
    "members.0.contact.postal_address.house_number": "house_number",
    "members.0.contact.postal_address.municipality": "municipality",
    **{f"members.{n}.person_id": f"minor_person_id_{n}" for n in range(1, 4)},
    **{f"members.{n}.birth_date": f"minor_birth_date_{n}" for n in range(1, 4)},
}


def today_iso(now: datetime) -> str:
    return now.astimezone(BRUSSELS).date().isoformat()


def day_of(value: str | None, now: datetime) -> date:
    """`?day=2026-03-11`, or today in Brussels."""
    try:
        return date.fromisoformat(value) if value else now.astimezone(BRUSSELS).date()
    except ValueError:
        return now.astimezone(BRUSSELS).date()
