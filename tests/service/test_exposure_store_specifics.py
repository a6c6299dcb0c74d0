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


async def test_memory_store_drops_old_time_buckets_and_old_shown_lists() -> None:
    s = MemoryExposureStore(granularity_s=60, retention_s=120, click_ttl_s=30, max_requests=2)
    await s.record([Exposure("control", "old", ("a",), (False,), T0)])
    await s.record([Exposure("control", "new", ("b",), (False,), T0 + 300)])
    w = (await s.read(["control"], T0 - 1000, T0 + 1000))["control"]
    assert w.item_counts == {"b": 1}  # T0's bucket fell out of the 120 s retention
    assert (await s.click(Click("old", "a", T0 + 301))).outcome is ClickOutcome.NOT_SHOWN
    assert (await s.click(Click("new", "b", T0 + 340))).outcome is ClickOutcome.NOT_SHOWN  # > ttl
    for i in range(3):
        await s.record([Exposure("control", f"r{i}", ("c",), (False,), T0 + 301)])
    assert (await s.click(Click("r0", "c", T0 + 302))).outcome is ClickOutcome.NOT_SHOWN  # evicted
    assert (await s.click(Click("r2", "c", T0 + 302))).outcome is ClickOutcome.COUNTED


async def test_redis_keys_carry_retention_and_click_ttls(redis_url: str, redis_prefix: str) -> None:
    import time

    s = RedisExposureStore(
        redis_url,
        key_prefix=redis_prefix,
        granularity_s=60,
        retention_s=600,
        click_ttl_s=90,
        timeout_s=2.0,
    )
    now = time.time()
    await s.record([Exposure("control", "r1", ("a",), (True,), now)])
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    keys = sorted(client.scan_iter(match=f"{redis_prefix}:*"))
    assert len(keys) == 3
    ttl = {k.split(":")[1]: client.ttl(k) for k in keys}
    assert 600 <= ttl["c"] <= 660 and 600 <= ttl["i"] <= 660  # retention after the bucket ends
    assert 80 <= ttl["r"] <= 90
    client.close()
    assert await s.delete_all() == 3
    await s.close()


async def test_redis_store_unreachable_raises_store_unavailable_quickly() -> None:
    s = RedisExposureStore("redis://127.0.0.1:1/0", timeout_s=0.2)
    with pytest.raises(StoreUnavailable, match="redis ping"):
        await s.ping()
    with pytest.raises(StoreUnavailable, match="redis record"):
        await s.record([Exposure("control", "r", ("a",), (False,), T0)])
    await s.close()


async def test_memory_store_shown_lists_stay_out_of_the_gc_and_keep_their_tail_labels() -> None:
    # Hundreds of thousands of kept lists must not be scanned by every full collection (that
    # stalled the event loop); the compact form must still answer clicks with the right label.
    s = MemoryExposureStore()
    await s.record(
        [
            Exposure("control", f"r{i}", ("h", "t1", "t2"), (False, True, True), T0)
            for i in range(50)
        ]
    )
    gc.collect()
    assert not any(gc.is_tracked(shown) for shown in s._shown.values())
    first = await s.click(Click("r7", "t2", T0 + 1))
    assert (first.outcome, first.tail) == (ClickOutcome.COUNTED, True)
    head = await s.click(Click("r7", "h", T0 + 1))
    assert (head.outcome, head.tail) == (ClickOutcome.COUNTED, False)
    again = await s.click(Click("r7", "t2", T0 + 2))
    assert again.outcome is ClickOutcome.DUPLICATE
    assert (await s.click(Click("r7", "zz", T0 + 2))).outcome is ClickOutcome.NOT_SHOWN
