"""The README's Redis sizing rule (service/exposure/sizing.py) against the bytes a real Redis
reports with ``MEMORY USAGE`` for the keys the store writes."""

from __future__ import annotations

import os
import time

import pytest
import redis

from service.exposure import sizing
from service.exposure.events import Exposure
from service.exposure.redis_store import RedisExposureStore

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("k", [1, 10, 100, 1000])
@pytest.mark.parametrize("bucket", ["control", "treatment-with-a-long-name"])
async def test_shown_lists_stay_within_the_sizing_rule(
    redis_url: str, redis_prefix: str, k: int, bucket: str
) -> None:
    s = RedisExposureStore(redis_url, key_prefix=redis_prefix, timeout_s=2.0)
    now = time.time()
    n = 50
    rids = [os.urandom(16).hex() for _ in range(n)]  # the service's request ids: 32 hex chars
    await s.record(
        [
            Exposure(
                bucket,
                rid,
                tuple(f"item{j}" for j in range(k)),
                tuple(j % 2 == 0 for j in range(k)),
                now,
                tuple(range(50_000, 50_000 + k)),
                0xABCDEF,
            )
            for rid in rids
        ]
    )
    client = redis.Redis.from_url(redis_url)
    used = [client.memory_usage(f"{redis_prefix}:r:{rid}", samples=0) for rid in rids]
    client.close()
    await s.close()
    assert all(u is not None for u in used)
    rule = sizing.shown_list_bytes(k, bucket_bytes=len(bucket), prefix_bytes=len(redis_prefix))
    worst = max(used) + sizing.TTL_ENTRY
    assert worst <= rule
    # A rule that could not fail would be no rule: it stays within 35% of what Redis reports.
    assert rule <= 1.35 * worst, (rule, worst)
    # Row indices, not ids: ten items cost well under the ~300 bytes a hash of ids did (issue
    # 14), even with this test's 21-byte key prefix.
    if k == 10 and bucket == "control":
        assert worst < 0.7 * 300


async def test_counters_stay_within_the_sizing_rule(redis_url: str, redis_prefix: str) -> None:
    s = RedisExposureStore(redis_url, key_prefix=redis_prefix, timeout_s=2.0)
    now = time.time()
    distinct = 3_000  # above any listpack threshold: the hashtable encoding, the costly one
    ids = [f"{1000 + j}" for j in range(distinct)]
    batch = [
        Exposure(
            "control",
            f"r{i}",
            tuple(ids[i * 10 : i * 10 + 10]),
            (False,) * 10,
            now,
            tuple(range(i * 10, i * 10 + 10)),
            1,
        )
        for i in range(distinct // 10)
    ]
    await s.record(batch)
    client = redis.Redis.from_url(redis_url)
    tb = int(now // s.granularity_s)
    used = sum(
        client.memory_usage(f"{redis_prefix}:{kind}:control:{tb}", samples=0) or 0
        for kind in ("c", "i")
    )
    client.close()
    await s.close()
    rule = sizing.time_bucket_bytes(distinct, id_bytes=4)
    assert used <= rule
    assert rule <= 1.6 * used, (rule, used)


def test_the_rule_adds_up() -> None:
    # Hand-computed: k = 10, bucket "control", prefix "ltr", 32-hex request ids:
    # key 3 + 3 + 32 = 38, value 3 + 2 * 2 + 4 + 40 + 7 = 58 -> ceil(1.25 * 96) + 64 + 32 = 216.
    assert sizing.shown_value_bytes(10, 7) == 58
    assert sizing.shown_list_bytes(10, bucket_bytes=7, prefix_bytes=3) == 216
    total = sizing.redis_bytes(
        requests_per_s=1000,
        click_ttl_s=600,
        k=10,
        buckets=1,
        retention_s=3600,
        granularity_s=60,
        distinct_items=100,
        id_bytes=4,
        bucket_bytes=7,
    )
    # shown 216 * 1000 * 600, counters 1 * 61 * (256 + 100 * 72)
    assert total == 216 * 1000 * 600 + 61 * (256 + 100 * 72)
