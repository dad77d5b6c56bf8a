"""Personal data kept out of logs, dead-letter texts and problem details.

Which keys are personal is derived from the public contracts, not listed by hand:

* every field of `PersonalData` and of what it holds (contact details, postal address);
* every event field that carries a `PersonalData` (`members`, `person`, `member`);
* every free text of an event: a string that is neither a code (a pattern, a format, an
  enumeration), nor an identifier (`…_id`, `…_by`), nor described as non-personal
  (`notes`, `rationale`, `communicated`, `details`…);

and a few words of the HTTP side complete them (`q`, the caseload's name search). Inside any
string, e-mail addresses, phone numbers and URL query strings are masked, and so is pydantic's
`input_value=…` in a rendered ValidationError. Error texts (`describe_error`) name the exception's
type and the rule that failed — for a ValidationError one "field path: message" line per error —
never the value.
"""

from __future__ import annotations

import json
import re
import typing
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any
from urllib import parse

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

MASK = "[redacted]"
EMAIL_MASK = "[email]"
PHONE_MASK = "[phone]"
QUERY_MASK = "?[query]"

# HTTP words that carry personal data although no event field is named so
HTTP_KEYS = frozenset({"q", "name", "names", "full_name", "address", "email_address", "phone_number"})

_EMAIL = re.compile(r"[\w.!#$%&*+/=?^{|}~-]+@[\w-]+(?:\.[\w-]+)+")
# a number starting with +, 00 or 0 (a Belgian or international phone), spaces and separators
# allowed, not glued to a word, an identifier or a decimal; kept when it has fewer than 8 digits
_PHONE = re.compile(r"(?<![\w+/.-])(?:\+|0)\d[\d \t().\-/]{5,}\d(?![\w-])")
_INPUT_VALUE = re.compile(r"input_value=.*?(?=, input_type=)")
# a URL's query string (a name search, a person's reference): `/caseload?q=…` → `/caseload?[query]`
_QUERY = re.compile(r"(?<=\S)\?[\w.%\-\[\]]+=[^\s\"'<>]*")
# an absolute URL's path (an HTTP client's request line): `http://case:8102/cases/<name>`
_URL_PATH = re.compile(r"(https?://[^\s/\"'<>]+)(/[^\s\"'<>?#]*)")
_QUOTED = re.compile(r"(?<!\w)(['\"])(?:(?!\1)[^\n]){1,500}\1(?!\w)")
_NON_PERSONAL = ("non-personal", "without personal data")
_IDENTIFIER_SUFFIXES = ("_id", "_ids", "_by")


def _phone_or_not(match: re.Match[str]) -> str:
    digits = sum(c.isdigit() for c in match.group(0))
    return PHONE_MASK if 8 <= digits <= 15 else match.group(0)


def scrub(text: str) -> str:
    """`text` with e-mail addresses, phone numbers, pydantic's input values, URL query strings and
    the values in a URL's path masked."""
    text = _INPUT_VALUE.sub("input_value=" + MASK, text)
    text = _QUERY.sub(QUERY_MASK, text)
    text = _URL_PATH.sub(lambda m: m.group(1) + access_path(m.group(2)), text)
    text = _EMAIL.sub(EMAIL_MASK, text)
    return _PHONE.sub(_phone_or_not, text)


_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# the paths every process serves besides the route table's
_INFRA_WORDS = frozenset({"api", "health", "live", "ready", "metrics", "docs", "redoc", "openapi.json"})


@cache
def path_words() -> frozenset[str]:
    """The literal segments of every path the platform serves (the route table's and the
    infrastructure's): a segment that is none of them is a value the client put in the path."""
    from icam_auth.policy import ROUTES

    words = {seg for r in ROUTES for seg in r.path.split("/") if seg and not seg.startswith("{")}
    return frozenset(words | _INFRA_WORDS)


def access_path(target: str) -> str:
    """A request target as an access line may name it: no query string (a name search), and every
    segment that is neither a word of the platform's paths nor a UUID masked — a client may put a
    name or a dossier reference in a path (`/cases/Xochiquetzal` → `/cases/[redacted]`)."""
    path = target.split("?", 1)[0]
    return "/".join(
        seg if not seg or seg in path_words() or _UUID.fullmatch(seg) else MASK for seg in path.split("/")
    )


def scrub_error_text(text: str) -> str:
    """An exception's message as it may be kept: scrubbed, and every quoted literal masked (a
    quoted value in an error is nearly always the input that failed) unless it names a field of
    the contracts (`KeyError: 'event_id'`)."""
    return _QUOTED.sub(_quoted_or_field, scrub(text))


def _quoted_or_field(match: re.Match[str]) -> str:
    quote, literal = match.group(1), match.group(0)[1:-1]
    return match.group(0) if literal in field_names() else f"{quote}{MASK}{quote}"


def is_personal(key: object) -> bool:
    return isinstance(key, str) and key.lower() in personal_keys()


def redact(value: Any) -> Any:
    """`value` with every personal key's value masked, at any depth, and every string scrubbed."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, BaseModel):
        return redact(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {k: MASK if is_personal(k) and v is not None else redact(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [redact(v) for v in value]
    return scrub(str(value))


def audit_query(query: str) -> str:
    """A request's query string as an audit row keeps it: the values of personal keys (the
    caseload's name search `q`) masked, every other value scrubbed. The audit says that a name
    was searched, by whom and when, never the name: an audit row holds ids only, so it outlives
    an erasure without keeping the erased person in it."""
    if not query:
        return query
    pairs = parse.parse_qsl(query, keep_blank_values=True)
    kept = [(k, MASK if is_personal(k) and v else scrub(v)) for k, v in pairs]
    return parse.urlencode(kept, safe="[]")


def describe_error(error: BaseException) -> str:
    """What went wrong, without the input: a ValidationError as "field path: message" lines, a
    JSON error with its line and column only, anything else as its type and a scrubbed message."""
    if isinstance(error, ValidationError):
        return validation_text(error)
    if isinstance(error, json.JSONDecodeError):
        return f"JSONDecodeError: {error.msg} at line {error.lineno}, column {error.colno}"
    message = scrub_error_text(str(error))
    return f"{type(error).__name__}: {message}" if message else type(error).__name__


def validation_text(error: ValidationError) -> str:
    lines = [f"{path}: {rule}" for path, rule in field_rules(error.errors(include_url=False))]
    return f"{error.title}: {error.error_count()} validation error(s)\n" + "\n".join(lines)


def field_rules(errors: Any) -> Iterator[tuple[str, str]]:
    """(field path, rule) of each pydantic error (with or without `input`), the rule freed of
    anything the input put in it."""
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "(root)"
        yield where, rule_of(error)


def rule_of(error: Mapping[str, Any]) -> str:
    """The error's message without the value that failed (a validator may quote it)."""
    message = str(error.get("msg", ""))
    for leaf in sorted(_echoable(error.get("input")), key=len, reverse=True):
        message = message.replace(leaf, MASK)
    return scrub(message)


def _echoable(value: Any, personal: bool = True) -> Iterator[str]:
    """The strings of an input a message could echo: the value itself when it is one, else the
    values under personal keys (a rule's own words, such as a role, are left alone)."""
    if isinstance(value, str):
        if personal and len(value) >= 3:
            yield value
    elif isinstance(value, Mapping):
        for key, inner in value.items():
            yield from _echoable(inner, is_personal(key))
    elif isinstance(value, list | tuple):
        for inner in value:
            yield from _echoable(inner, personal)


@cache
def personal_keys() -> frozenset[str]:
    """Every key whose value is personal data, derived from the public contracts."""
    from icam_contracts.personal_data import PersonalData
    from icam_contracts.registry import EVENT_CLASSES

    personal = {name for model in _models_within(PersonalData) for name in model.model_fields}
    free_texts, codes = set(), set()
    for event in EVENT_CLASSES:
        for model in _models_within(event):
            for name, field in model.model_fields.items():
                types, constraints = _shape(field.annotation, field.metadata)
                if PersonalData in types:
                    personal.add(name)
                if any(getattr(c, "pattern", None) for c in constraints):
                    codes.add(name)
                elif str in types and _free_text(name, field.description):
                    free_texts.add(name)
    return frozenset(personal | HTTP_KEYS | (free_texts - codes))


@cache
def field_names() -> frozenset[str]:
    """The name of every field of the envelope and of every event (words, not values)."""
    from icam_contracts.envelope import EventEnvelope
    from icam_contracts.registry import EVENT_CLASSES

    roots: list[type[BaseModel]] = [EventEnvelope, *EVENT_CLASSES]
    models = [m for root in roots for m in _models_within(root)]
    return frozenset(name for model in models for name in model.model_fields)


def _models_within(model: type[BaseModel]) -> list[type[BaseModel]]:
    """`model` and every model its fields hold, at any depth."""
    found = [model]
    for current in found:
        for field in current.model_fields.values():
            types, _ = _shape(field.annotation, field.metadata)
            found += [t for t in types if issubclass(t, BaseModel) and t not in found]
    return found


def _shape(annotation: Any, metadata: Any = ()) -> tuple[set[type], list[Any]]:
    """The classes an annotation admits (through Optional, tuples, Annotated) and its constraints."""
    types: set[type] = set()
    constraints = list(metadata)
    for arg in typing.get_args(annotation) or ():
        if isinstance(arg, FieldInfo):
            constraints += arg.metadata
        elif not isinstance(arg, type) or typing.get_args(arg):
            inner_types, inner = _shape(arg)
            types |= inner_types
            constraints += inner
        else:
            types.add(arg)
    if isinstance(annotation, type) and not typing.get_args(annotation):
        types.add(annotation)
    return types, constraints


def _free_text(name: str, description: str | None) -> bool:
    """A string field that is no identifier and not declared non-personal."""
    if name.endswith(_IDENTIFIER_SUFFIXES):
        return False
    return not any(words in (description or "").lower() for words in _NON_PERSONAL)
