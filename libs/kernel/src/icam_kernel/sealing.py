"""Personal data sealed on its way into the store and opened on its way out (crypto-shredding).

Each `PersonalData` object of an event is sealed under its person's data key (its fields move into
`sealed`; `person_id` and `is_minor` stay), and each free text marked `x-personal-data: household`
in the contract under the household's key (the texts move into the event's `sealed` map; the field
keeps `[sealed]` or nothing). AES-256-GCM, a fresh 96-bit nonce per value, the key id as
associated data. Everything else stays in clear, so routing, counting and statistics never need a
key. Opening is the reverse; under a destroyed key a person's fields stay empty and a text reads
`[erased]` — the event is still whole and valid (ADR 0012).

The plans come from the contract models, so a new personal field is sealed from the day it is
marked in `contracts/`, with no change here.
"""

from __future__ import annotations

import base64
import os
import types
import typing
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel

from icam_contracts.personal_data import SEALED_PREFIX, PersonalData
from icam_contracts.registry import UnknownEvent, event_class
from icam_kernel import codec
from icam_kernel.events import RecordedEvent
from icam_kernel.keyring import DataKey, Keyring, household_subject, person_subject

SEALED_TEXT: Final = "[sealed]"
ERASED: Final = "[erased]"
_IN_CLEAR: Final = frozenset({"person_id", "is_minor", "sealed"})

Payload = dict[str, Any]
Path = tuple[str, ...]  # field names; "*" is every item of a tuple


@dataclass(frozen=True)
class SealPlan:
    """Where one event version carries personal data: persons (paths to `PersonalData`) and the
    free texts (top-level fields), with whether each text is required."""

    persons: tuple[Path, ...] = ()
    texts: tuple[tuple[str, bool, bool], ...] = ()  # (field, required, many)

    @property
    def empty(self) -> bool:
        return not self.persons and not self.texts


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """The model inside `X | None`, `Annotated[X, ...]` or `tuple[X, ...]`, and whether it's many."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _unwrap(inner[0]) if len(inner) == 1 else (annotation, False)
    if origin is tuple:
        inner_type, _ = _unwrap(typing.get_args(annotation)[0])
        return inner_type, True
    return annotation, False


def _person_paths(model: type[BaseModel], prefix: Path = ()) -> Iterator[Path]:
    for name, field in model.model_fields.items():
        inner, many = _unwrap(field.annotation)
        path = (*prefix, name, "*") if many else (*prefix, name)
        if inner is PersonalData:
            yield path
        elif isinstance(inner, type) and issubclass(inner, BaseModel):
            yield from _person_paths(inner, path)


def plan_of(model: type[BaseModel]) -> SealPlan:
    """The seal plan of a contract model, read from its fields and their schema marks."""
    texts = []
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra
        if isinstance(extra, dict) and extra.get("x-personal-data") == "household":
            texts.append((name, field.is_required(), _unwrap(field.annotation)[1]))
    return SealPlan(tuple(_person_paths(model)), tuple(texts))


@cache
def plan_for(event_type: str, version: int) -> SealPlan:
    """The plan of a registered event version; an unknown one has nothing to seal."""
    try:
        return plan_of(event_class(event_type, version))
    except UnknownEvent:
        return SealPlan()


def _seal_value(key: DataKey, value: Any) -> str:
    assert key.secret is not None, "a destroyed key never seals"
    nonce = os.urandom(12)
    data = codec.dumps_bytes(value)
    sealed = AESGCM(key.secret).encrypt(nonce, data, key.key_id.bytes)
    return f"{SEALED_PREFIX}{key.key_id}:{_b64(nonce)}:{_b64(sealed)}"


class BrokenSeal(ValueError):
    """A sealed value that does not open under its own key: tampered with, or not ours (poison)."""


def _open_value(keys: dict[uuid.UUID, DataKey], sealed: str) -> tuple[bool, Any]:
    try:
        key_id, nonce, data = sealed.removeprefix(SEALED_PREFIX).split(":")
        key = keys.get(uuid.UUID(key_id))
        if key is None or key.secret is None:
            return False, None
        plain = AESGCM(key.secret).decrypt(_unb64(nonce), _unb64(data), key.key_id.bytes)
    except (ValueError, InvalidTag):
        raise BrokenSeal("a sealed value does not open under its key") from None
    return True, codec.loads(plain)


def key_id_of(sealed: str) -> uuid.UUID:
    try:
        return uuid.UUID(sealed.removeprefix(SEALED_PREFIX).split(":", 1)[0])
    except ValueError:
        raise BrokenSeal("a sealed value names no key") from None


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _at(node: Any, path: Path) -> Iterator[dict[str, Any]]:
    """Every object at `path` in a JSON document (tuples walked item by item)."""
    if not path:
        if isinstance(node, dict):
            yield node
        return
    head, rest = path[0], path[1:]
    if head == "*":
        for item in node if isinstance(node, list) else ():
            yield from _at(item, rest)
    elif isinstance(node, dict) and node.get(head) is not None:
        yield from _at(node[head], rest)


def sealed_values(data: Payload) -> Iterator[str]:
    """Every sealed string of a payload, wherever it is."""
    if isinstance(data, dict):
        for value in data.values():
            yield from sealed_values(value)
    elif isinstance(data, list):
        for item in data:
            yield from sealed_values(item)
    elif isinstance(data, str) and data.startswith(SEALED_PREFIX):
        yield data


class Vault:
    """Seals and opens event payloads with the keys of a `Keyring`."""

    def __init__(self, keyring: Keyring) -> None:
        self.keyring = keyring

    async def seal(self, event_type: str, version: int, data: Payload) -> Payload:
        """The payload as it is stored and published: personal data under its subjects' keys."""
        plan = plan_for(event_type, version)
        if plan.empty or data.get("sealed"):
            return data
        sealed: Payload = codec.copy(data)  # the caller keeps its payload
        people = [p for path in plan.persons for p in _at(sealed, path) if not p.get("sealed")]
        texts = [t for t in plan.texts if sealed.get(t[0]) not in (None, [], "")]
        subjects = {person_subject(p["person_id"]) for p in people}
        if texts:
            subjects.add(household_subject(data["household_id"]))
        keys = await self.keyring.issue(subjects) if subjects else {}
        for person in people:
            _seal_person(person, keys[person_subject(person["person_id"])])
        if texts:
            _seal_texts(sealed, texts, keys[household_subject(data["household_id"])])
        return sealed

    async def open(self, data: Payload) -> Payload:
        """The payload with every sealed value opened (or marked erased under a destroyed key)."""
        ids = {key_id_of(s) for s in sealed_values(data)}
        if not ids:
            return data
        keys = dict(await self.keyring.release(ids))
        return _opened(data, keys)

    async def open_events(self, events: Sequence[RecordedEvent]) -> list[RecordedEvent]:
        """Open a batch with one key request for all of it; each keeps its payload as stored."""
        ids = {key_id_of(s) for e in events for s in sealed_values(e.data)}
        if not ids:
            return list(events)
        keys = dict(await self.keyring.release(ids))
        return [e.opened(_opened(e.data, keys)) if _has_seal(e.data) else e for e in events]

    async def open_all(self, payloads: Sequence[Payload]) -> list[Payload]:
        """Open many payloads (rows of a read model that keeps events) with one key request."""
        ids = {key_id_of(s) for p in payloads for s in sealed_values(p)}
        if not ids:
            return list(payloads)
        keys = dict(await self.keyring.release(ids))
        return [_opened(p, keys) if _has_seal(p) else p for p in payloads]


_installed: Vault | None = None


async def open_all(payloads: Sequence[Payload]) -> list[Payload]:
    """`Vault.open_all` with the process's vault (payloads as they are when there is none)."""
    return await _installed.open_all(payloads) if _installed is not None else list(payloads)


def install(vault: Vault | None) -> None:
    """The process's vault: what every event store and inbox of this process seals and opens with
    unless given one of their own (a service installs it at start from its settings)."""
    global _installed
    _installed = vault


def installed() -> Vault | None:
    return _installed


def _has_seal(data: Payload) -> bool:
    return next(sealed_values(data), None) is not None


def _seal_person(person: dict[str, Any], key: DataKey) -> None:
    personal = {k: v for k, v in person.items() if k not in _IN_CLEAR}
    for name in personal:
        del person[name]
    person["sealed"] = _seal_value(key, personal)


def _seal_texts(data: Payload, texts: Iterable[tuple[str, bool, bool]], key: DataKey) -> None:
    sealed: dict[str, str] = {}
    for name, required, many in texts:
        sealed[name] = _seal_value(key, data[name])
        data[name] = [] if many else (SEALED_TEXT if required else None)
    data["sealed"] = sealed


def _opened(data: Payload, keys: dict[uuid.UUID, DataKey]) -> Payload:
    opened = _open_people(data, keys)
    texts = opened.get("sealed")
    if isinstance(texts, dict):
        for name, value in texts.items():
            readable, text = _open_value(keys, value)
            opened[name] = text if readable else _erased_like(opened.get(name))
        opened["sealed"] = None
    return opened  # type: ignore[no-any-return]


def _open_people(node: Any, keys: dict[uuid.UUID, DataKey]) -> Any:
    if isinstance(node, list):
        return [_open_people(item, keys) for item in node]
    if not isinstance(node, dict):
        return node
    opened = {k: _open_people(v, keys) for k, v in node.items()}
    person = node.get("sealed")
    if isinstance(person, str) and person.startswith(SEALED_PREFIX):
        readable, fields = _open_value(keys, person)
        opened.update(fields if readable else {})
        opened["sealed"] = None  # as the producer's model had it: opened == never sealed
    return opened


def _erased_like(placeholder: Any) -> Any:
    """What an erased text reads as: `[erased]` where a text is required, else nothing."""
    if isinstance(placeholder, list):
        return []
    return ERASED if placeholder == SEALED_TEXT else None
