"""N concurrent requests give exactly N·k impressions in Redis: none lost, none counted twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import redis
from svc_helpers import live, service_settings

from service.app import create_app

N, K = 200, 10


def test_concurrent_requests_are_all_counted_in_redis(
    mirec_bundle: Path, redis_url: str, redis_prefix: str
) -> None:
    settings = service_settings(
        mirec_bundle,
        redis_url=redis_url,
        access_log=False,
        exposure={"key_prefix": redis_prefix, "batch_max": 8, "timeout_s": 2.0},
    )

    async def burst(url: str) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as c:
            return await asyncio.gather(
                *(c.post("/recommend", json={"user_id": f"u{i % 60}", "k": K}) for i in range(N))
            )

    with live(create_app(settings)) as s:
        responses = asyncio.run(burst(s.url))
        assert [r.status_code for r in responses] == [200] * N
        served = {
            b: sum(r.json()["bucket"] == b for r in responses) for b in ("control", "treatment")
        }
        tails = sum(it["tail"] for r in responses for it in r.json()["items"])
        stats = httpx.get(f"{s.url}/stats/exposure").json()["buckets"]

    for bucket in ("control", "treatment"):
        assert stats[bucket]["requests"] == served[bucket]
        assert stats[bucket]["impressions"] == served[bucket] * K
    assert sum(stats[b]["tail_impressions"] for b in stats) == tails

    # And straight from Redis, independent of the service's read path.
    client = redis.Redis.from_url(redis_url, decode_responses=True)
    counters = [client.hgetall(k) for k in client.scan_iter(match=f"{redis_prefix}:c:*")]
    per_item = [client.hgetall(k) for k in client.scan_iter(match=f"{redis_prefix}:i:*")]
    shown_lists = list(client.scan_iter(match=f"{redis_prefix}:r:*", count=1000))
    client.close()
    assert sum(int(c["requests"]) for c in counters) == N
    assert sum(int(c["impressions"]) for c in counters) == N * K
    assert sum(int(n) for h in per_item for n in h.values()) == N * K
    assert len(shown_lists) == N
