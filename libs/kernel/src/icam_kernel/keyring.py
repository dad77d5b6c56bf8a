"""Data keys: one per person and one per household, held by the privacy service (ADR 0012).

A service never stores a data key. It asks the key custodian (`HttpKeyring`, the privacy
service's `/keys` routes) for the keys it writes with (`issue`: created on first use) and the keys
it reads with (`release`), and keeps them in memory for a short while (`CachedKeyring`). A
destroyed key — the person or household was erased — comes back as `DataKey(secret=None)`:
whatever it sealed is unreadable from then on, in every copy of every event.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

import httpx


@dataclass(frozen=True, slots=True)
class DataKey:
    """An AES-256 data key; `secret` is None once the key is destroyed (erasure). `subject`: whose
    key it is, when the custodian says (it does to services)."""

    key_id: uuid.UUID
    secret: bytes | None
    subject: str | None = None

    @property
    def destroyed(self) -> bool:
        return self.secret is None


def person_subject(person_id: str) -> str:
    """The key subject of one person: their dossier reference."""
    return f"person:{person_id}"


def household_subject(household_id: object) -> str:
    """The key subject of a household's free texts (notes, rationale, reasons)."""
    return f"household:{household_id}"


class Keyring(Protocol):
    """Where data keys come from: the privacy service, or memory in a test."""

    async def issue(self, subjects: Collection[str]) -> Mapping[str, DataKey]:
        """The live key of each subject, created when it has none."""
        ...

    async def release(self, key_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, DataKey]:
        """The keys asked for; a destroyed or unknown key comes back without its secret."""
        ...


class KeyringUnavailable(Exception):
    """The key custodian did not answer: the command or event is retried, never written in clear."""


class LocalKeyring:
    """Keys in memory, for one process: unit tests and benchmarks. Never for real data (the keys
    die with the process)."""

    def __init__(self) -> None:
        self._by_subject: dict[str, DataKey] = {}
        self._by_id: dict[uuid.UUID, DataKey] = {}

    async def issue(self, subjects: Collection[str]) -> Mapping[str, DataKey]:
        for subject in subjects:
            if subject not in self._by_subject:
                key = DataKey(uuid.uuid4(), os.urandom(32), subject)
                self._by_subject[subject] = self._by_id[key.key_id] = key
        return {s: self._by_subject[s] for s in subjects}

    async def release(self, key_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, DataKey]:
        return {k: self._by_id.get(k, DataKey(k, None)) for k in key_ids}

    def destroy(self, subject: str) -> uuid.UUID | None:
        """Erase a subject: its key is gone, a later `issue` gives it a new one."""
        key = self._by_subject.pop(subject, None)
        if key is None:
            return None
        self._by_id[key.key_id] = DataKey(key.key_id, None)
        return key.key_id


class HttpKeyring:
    """The privacy service's `/keys/issue` and `/keys/release`, with this service's token."""

    def __init__(self, base_url: str, token: str, *, timeout: float = 5.0) -> None:
        headers = {"authorization": f"Bearer {token}", "x-purpose": "sealing personal data"}
        self._client = httpx.AsyncClient(base_url=base_url, headers=headers, timeout=timeout)

    async def issue(self, subjects: Collection[str]) -> Mapping[str, DataKey]:
        body = await self._post("/keys/issue", {"subjects": sorted(subjects)})
        return {k["subject"]: _key(k) for k in body["keys"]}

    async def release(self, key_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, DataKey]:
        body = await self._post("/keys/release", {"key_ids": sorted(str(k) for k in key_ids)})
        return {uuid.UUID(k["key_id"]): _key(k) for k in body["keys"]}

    async def _post(self, path: str, body: dict[str, object]) -> dict[str, list[dict[str, str]]]:
        try:
            response = await self._client.post(path, json=body)
        except httpx.HTTPError as error:
            raise KeyringUnavailable(f"key custodian unreachable: {type(error).__name__}") from None
        if response.status_code >= 500 or response.status_code in (401, 403):
            raise KeyringUnavailable(f"key custodian answered {response.status_code} on {path}")
        response.raise_for_status()
        return response.json()  # type: ignore[no-any-return]

    async def aclose(self) -> None:
        await self._client.aclose()


def _key(row: Mapping[str, str | None]) -> DataKey:
    secret = row.get("secret")
    subject = row.get("subject")
    return DataKey(uuid.UUID(str(row["key_id"])), base64.b64decode(secret) if secret else None, subject)


class CachedKeyring:
    """Keeps keys for `ttl` seconds so that a busy service asks the custodian once per key and
    minute, not per event; `forget` drops a key at once when its erasure is announced.

    Single flight per key: tasks that miss the same key share one request, and tasks that miss
    different keys ask side by side. (One lock around every request made a whole process wait
    on the custodian one request at a time, inside its consumers' transactions: issue 16.)
    """

    def __init__(self, inner: Keyring, ttl: float = 60.0) -> None:
        self.inner, self.ttl = inner, ttl
        self._subjects: dict[str, tuple[float, DataKey]] = {}
        self._ids: dict[uuid.UUID, tuple[float, DataKey]] = {}
        self._issuing: dict[str, asyncio.Future[DataKey]] = {}
        self._releasing: dict[uuid.UUID, asyncio.Future[DataKey]] = {}

    async def issue(self, subjects: Collection[str]) -> Mapping[str, DataKey]:
        missing = [s for s in subjects if not self._fresh(self._subjects.get(s))]
        if missing:
            await _single_flight(missing, self._issuing, self.inner.issue, self._keep_issued)
        return {s: self._subjects[s][1] for s in subjects}

    async def release(self, key_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, DataKey]:
        missing = [k for k in key_ids if not self._fresh(self._ids.get(k))]
        if missing:
            await _single_flight(missing, self._releasing, self.inner.release, self._keep_released)
        return {k: self._ids[k][1] for k in key_ids}

    def _keep_issued(self, fetched: Mapping[str, DataKey]) -> None:
        now = time.monotonic()
        for subject, key in fetched.items():
            self._subjects[subject] = self._ids[key.key_id] = (now, key)

    def _keep_released(self, fetched: Mapping[uuid.UUID, DataKey]) -> None:
        """A released key that is not destroyed is its subject's live key (a subject has one at
        a time): kept for sealing too, so that the case, having opened an invitation, seals the
        case it opens without asking again."""
        now = time.monotonic()
        self._ids.update({k: (now, key) for k, key in fetched.items()})
        for key in fetched.values():
            if key.subject is not None and key.secret is not None:
                self._subjects[key.subject] = (now, key)

    def forget(self, key_ids: Collection[uuid.UUID]) -> None:
        """Drop these keys (an erasure was announced); the next use asks the custodian."""
        gone = set(key_ids)
        for key_id in gone:
            self._ids.pop(key_id, None)
        for subject in [s for s, (_, key) in self._subjects.items() if key.key_id in gone]:
            del self._subjects[subject]

    def clear(self) -> None:
        """Drop every key: the next use of each asks the custodian (a cold cache, for benches)."""
        self._ids.clear()
        self._subjects.clear()

    def _fresh(self, entry: tuple[float, DataKey] | None) -> bool:
        return entry is not None and time.monotonic() - entry[0] < self.ttl


K = TypeVar("K", str, uuid.UUID)


async def _single_flight(
    wanted: list[K],
    in_flight: dict[K, asyncio.Future[DataKey]],
    fetch: Callable[[list[K]], Awaitable[Mapping[K, DataKey]]],
    keep: Callable[[Mapping[K, DataKey]], None],
) -> None:
    """Fetch the wanted keys no other task is fetching (and `keep` them), then wait for the rest."""
    loop = asyncio.get_running_loop()
    mine = [k for k in dict.fromkeys(wanted) if k not in in_flight]
    theirs = [in_flight[k] for k in dict.fromkeys(wanted) if k in in_flight]
    futures = {k: loop.create_future() for k in mine}
    in_flight.update(futures)
    try:
        if mine:
            fetched = await fetch(mine)
            keep(fetched)
            for k, future in futures.items():
                future.set_result(fetched[k])
    except BaseException as error:
        # the tasks waiting on these keys fail too (and retry): never left waiting, even on a cancel
        shared = error if isinstance(error, Exception) else KeyringUnavailable("key request interrupted")
        for future in futures.values():
            if not future.done():
                future.set_exception(shared)
                future.exception()  # retrieved here: a key nobody else waits for logs nothing
        raise
    finally:
        for k in mine:
            in_flight.pop(k, None)
    for future in theirs:
        await future
