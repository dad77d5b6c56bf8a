"""The key cache in front of the key custodian: one request per missing key, side by side."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Collection, Mapping

import pytest

from icam_kernel.keyring import CachedKeyring, DataKey, KeyringUnavailable, LocalKeyring

pytestmark = pytest.mark.unit


class Custodian(LocalKeyring):
    """Keys in memory that answer only when told to, and count what they were asked."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[list[str]] = []
        self.answer = asyncio.Event()
        self.down = False

    async def issue(self, subjects: Collection[str]) -> Mapping[str, DataKey]:
        self.asked.append(sorted(subjects))
        await self.answer.wait()
        if self.down:
            raise KeyringUnavailable("key custodian unreachable: ConnectError")
        return await super().issue(subjects)

    async def release(self, key_ids: Collection[uuid.UUID]) -> Mapping[uuid.UUID, DataKey]:
        self.asked.append(sorted(str(k) for k in key_ids))
        await self.answer.wait()
        return await super().release(key_ids)


async def until_asked(custodian: Custodian, times: int) -> None:
    async with asyncio.timeout(5):
        while len(custodian.asked) < times:
            await asyncio.sleep(0)


async def test_tasks_missing_the_same_key_share_one_request() -> None:
    custodian = Custodian()
    cache = CachedKeyring(custodian)

    waiting = [asyncio.create_task(cache.issue(["household:h1"])) for _ in range(5)]
    await until_asked(custodian, 1)
    custodian.answer.set()
    keys = await asyncio.gather(*waiting)

    assert custodian.asked == [["household:h1"]]
    assert len({k["household:h1"].key_id for k in keys}) == 1


async def test_tasks_missing_different_keys_ask_side_by_side() -> None:
    custodian = Custodian()
    cache = CachedKeyring(custodian)

    first = asyncio.create_task(cache.issue(["household:h1"]))
    second = asyncio.create_task(cache.issue(["household:h2", "person:OE-1"]))
    await until_asked(custodian, 2)  # both asked before either was answered
    custodian.answer.set()
    await asyncio.gather(first, second)

    assert sorted(custodian.asked) == [["household:h1"], ["household:h2", "person:OE-1"]]
    again = await cache.issue(["household:h1", "household:h2"])
    assert len(again) == 2 and len(custodian.asked) == 2  # from memory now


async def test_a_released_key_is_asked_for_once_and_then_kept() -> None:
    custodian = Custodian()
    custodian.answer.set()
    issued = (await custodian.issue(["household:h1"]))["household:h1"]
    custodian.asked.clear()
    cache = CachedKeyring(custodian)

    both = await asyncio.gather(cache.release([issued.key_id]), cache.release([issued.key_id]))

    assert [k[issued.key_id] for k in both] == [issued, issued]
    assert custodian.asked == [[str(issued.key_id)]]


async def test_when_the_custodian_is_down_every_waiting_task_fails_and_the_next_one_asks_again() -> None:
    custodian = Custodian()
    custodian.down = True
    cache = CachedKeyring(custodian)

    waiting = [asyncio.create_task(cache.issue(["household:h1"])) for _ in range(3)]
    await until_asked(custodian, 1)
    custodian.answer.set()
    results = await asyncio.gather(*waiting, return_exceptions=True)

    assert all(isinstance(r, KeyringUnavailable) for r in results)
    custodian.down = False
    assert (await cache.issue(["household:h1"]))["household:h1"].secret is not None
    assert len(custodian.asked) == 2


async def test_a_cancelled_request_leaves_no_task_waiting_for_good() -> None:
    custodian = Custodian()
    cache = CachedKeyring(custodian)

    asking = asyncio.create_task(cache.issue(["household:h1"]))
    await until_asked(custodian, 1)
    sharing = asyncio.create_task(cache.issue(["household:h1"]))
    await asyncio.sleep(0)
    asking.cancel()

    with pytest.raises(KeyringUnavailable):
        await asyncio.wait_for(sharing, 5)


async def test_a_released_live_key_also_seals_for_its_subject_without_asking_again() -> None:
    custodian = Custodian()
    custodian.answer.set()
    live = (await custodian.issue(["household:h1"]))["household:h1"]
    gone = (await custodian.issue(["person:OE-9"]))["person:OE-9"]
    custodian.destroy("person:OE-9")
    custodian.asked.clear()
    cache = CachedKeyring(custodian)

    await cache.release([live.key_id, gone.key_id])  # opening an event of the household
    sealing_with = await cache.issue(["household:h1"])
    assert sealing_with["household:h1"] == live and len(custodian.asked) == 1
    fresh = await cache.issue(["person:OE-9"])  # a destroyed key never seals: the custodian is asked
    assert fresh["person:OE-9"].key_id != gone.key_id and len(custodian.asked) == 2
