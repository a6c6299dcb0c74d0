"""Behaviour each store implements its own way: retention and expiry."""

from __future__ import annotations

import gc

import pytest
import redis

from service.exposure.events import Click, ClickOutcome, Exposure
from service.exposure.memory import MemoryExposureStore
from service.exposure.redis_store import RedisExposureStore
from service.exposure.store import StoreUnavailable

pytestmark = pytest.mark.anyio

T0 = 1_700_000_040.0
ROWS = {"a": 0, "b": 1, "c": 2, "h": 3, "t1": 4, "t2": 5}
CATALOGUES = {1: ROWS}


def shown(rid: str, items: tuple[str, ...], tail: tuple[bool, ...], at: float) -> Exposure:
    return Exposure("control", rid, items, tail, at, tuple(ROWS[i] for i in items), 1)


def click(rid: str, item: str, at: float) -> Click:
    return Click(rid, item, at, CATALOGUES)


async def test_memory_store_drops_old_time_buckets_and_old_shown_lists() -> None:
    s = MemoryExposureStore(granularity_s=60, retention_s=120, click_ttl_s=30, max_requests=2)
    await s.record([shown("old", ("a",), (False,), T0)])
    await s.record([shown("new", ("b",), (False,), T0 + 300)])
    w = (await s.read(["control"], T0 - 1000, T0 + 1000))["control"]
    assert w.item_counts == {"b": 1}  # T0's bucket fell out of the 120 s retention
    assert (await s.click(click("old", "a", T0 + 301))).outcome is ClickOutcome.NOT_SHOWN
    assert (await s.click(click("new", "b", T0 + 340))).outcome is ClickOutcome.NOT_SHOWN  # > ttl
    for i in range(3):
        await s.record([shown(f"r{i}", ("c",), (False,), T0 + 301)])
    assert (await s.click(click("r0", "c", T0 + 302))).outcome is ClickOutcome.NOT_SHOWN  # evicted
    assert (await s.click(click("r2", "c", T0 + 302))).outcome is ClickOutcome.COUNTED


async def test_redis_only_shown_lists_carry_a_ttl(redis_url: str, redis_prefix: str) -> None:
    # What makes the compose Redis' volatile-ttl eviction safe for the counts: the shown lists
    # are the only keys an eviction policy restricted to keys with a TTL can pick.
    import time

    s = RedisExposureStore(
        redis_url,
        key_prefix=redis_prefix,
        granularity_s=60,
        retention_s=600,
        click_ttl_s=90,
        timeout_s=2.0,
    )
    # Early in the current minute: the record at ``now`` and the click at ``now + 1`` fall in one
    # 60 s bucket (at :59 the click's count would land in the next bucket's key).
    now = time.time() // 60 * 60 + 5
    try:
        await _check_ttls(s, redis_url, redis_prefix, now)
    finally:
        await s.close()


async def _check_ttls(s: RedisExposureStore, redis_url: str, redis_prefix: str, now: float) -> None:
    await s.record([shown("r1", ("a",), (True,), now), shown("r2", ("b",), (False,), now)])
    assert (await s.click(click("r1", "a", now + 1))).outcome is ClickOutcome.COUNTED
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = sorted(client.scan_iter(match=f"{redis_prefix}:*"))
    kinds = [k[len(redis_prefix) + 1 :].split(":")[0] for k in keys]
    assert kinds == ["c", "i", "r", "r", "tb"]
    ttl = {k: client.ttl(k) for k in keys}
    for k, kind in zip(keys, kinds, strict=True):
        if kind == "r":
            assert 80 <= ttl[k] <= 90, k  # the click window; clicking kept the TTL
        else:
            assert ttl[k] == -1, k  # no TTL: never evictable under volatile-*
    # Retention lives in the index instead: the bucket's keys leave it 600 s after it ends.
    tb = int(now // 60)
    index = dict(client.zrange(f"{redis_prefix}:tb", 0, -1, withscores=True))
    expected = float((tb + 1) * 60 + 600)
    assert index == {
        f"{redis_prefix}:c:control:{tb}": expected,
        f"{redis_prefix}:i:control:{tb}": expected,
    }
    client.close()
    assert await s.delete_all() == 5


async def test_redis_record_deletes_time_buckets_past_retention(
    redis_url: str, redis_prefix: str
) -> None:
    import time

    s = RedisExposureStore(
        redis_url, key_prefix=redis_prefix, granularity_s=60, retention_s=600, timeout_s=2.0
    )
    now = time.time()
    old = now - 600 - 120  # its bucket ended more than retention_s ago
    await s.record([shown("r1", ("a",), (False,), old)])
    await s.record([shown("r2", ("b",), (True,), now)])
    w = (await s.read(["control"], old - 60, now))["control"]
    assert w.totals.requests == 1 and w.item_counts == {"b": 1}
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    tb_old = int(old // 60)
    assert not client.exists(
        f"{redis_prefix}:c:control:{tb_old}", f"{redis_prefix}:i:control:{tb_old}"
    )
    assert client.zcard(f"{redis_prefix}:tb") == 2  # only the live bucket's two keys
    client.close()
    await s.close()


async def test_redis_store_unreachable_raises_store_unavailable_quickly() -> None:
    s = RedisExposureStore("redis://127.0.0.1:1/0", timeout_s=0.2)
    with pytest.raises(StoreUnavailable, match="redis ping"):
        await s.ping()
    with pytest.raises(StoreUnavailable, match="redis record"):
        await s.record([shown("r", ("a",), (False,), T0)])
    await s.close()


async def test_memory_store_shown_lists_stay_out_of_the_gc_and_keep_their_tail_labels() -> None:
    # Hundreds of thousands of kept lists must not be scanned by every full collection (that
    # stalled the event loop); the compact form must still answer clicks with the right label.
    s = MemoryExposureStore()
    await s.record([shown(f"r{i}", ("h", "t1", "t2"), (False, True, True), T0) for i in range(50)])
    gc.collect()
    assert not any(gc.is_tracked(shown) for shown in s._shown.values())
    first = await s.click(click("r7", "t2", T0 + 1))
    assert (first.outcome, first.tail) == (ClickOutcome.COUNTED, True)
    head = await s.click(click("r7", "h", T0 + 1))
    assert (head.outcome, head.tail) == (ClickOutcome.COUNTED, False)
    again = await s.click(click("r7", "t2", T0 + 2))
    assert again.outcome is ClickOutcome.DUPLICATE
    assert (await s.click(click("r7", "zz", T0 + 2))).outcome is ClickOutcome.NOT_SHOWN
