"""Redis exposure store (``REDIS_URL``), on ``redis.asyncio``; standalone Redis, not Cluster.

Keys (``P`` = key prefix, ``T`` = time-bucket index = unix seconds // granularity):

- ``P:c:{bucket}:T`` hash of counters (``requests``, ``impressions``, ``head_impressions``,
  ``tail_impressions``, ``clicks``, ``head_clicks``, ``tail_clicks``);
- ``P:i:{bucket}:T`` hash item id -> impressions (coverage, Gini, Lorenz);
- ``P:r:{request_id}`` hash item id -> ``<tail 0|1><bucket>`` (prefixed ``c`` once clicked): the
  shown list that clicks are checked against.

Time-bucket keys expire ``retention_s`` after their bucket ends (``EXPIREAT``, so rewriting them is
idempotent); shown lists expire after ``click_ttl_s``.

A batch of served lists is **one** command: the batch, aggregated per (bucket, time bucket), is
sent as one JSON argument to a Lua script that applies every increment. So it is one round trip,
atomic (wholly counted or not at all), and cheap for the client: redis-py spends tens of
microseconds packing and parsing each command, and a pipeline of one ``HINCRBY`` per item cost
more CPU than the recommendation itself. The client never retries (a retried write whose reply
was lost would count twice), so counting is at most once and a failed batch is reported to the
caller, which counts the drop. Reading a window is one pipelined round trip; its cost grows with
(window / granularity) × distinct items, so a long retention wants a coarser granularity.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from service.exposure.events import (
    COUNTERS,
    BucketWindow,
    Click,
    ClickOutcome,
    ClickResult,
    Counts,
    Exposure,
)
from service.exposure.store import StoreUnavailable, time_bucket, time_buckets

# Atomic batch record. ARGV[1] = prefix, ARGV[2] = JSON {"g": [[bucket, tb, expire_at, requests,
# impressions, head, tail, {item: n}]...], "r": [[request_id, ttl, {item: "<tail><bucket>"}]...]}.
_RECORD_LUA = """
local batch = cjson.decode(ARGV[2])
local p = ARGV[1]
for _, g in ipairs(batch.g) do
  local ckey = p .. ':c:' .. g[1] .. ':' .. g[2]
  redis.call('HINCRBY', ckey, 'requests', g[4])
  redis.call('HINCRBY', ckey, 'impressions', g[5])
  if g[6] > 0 then redis.call('HINCRBY', ckey, 'head_impressions', g[6]) end
  if g[7] > 0 then redis.call('HINCRBY', ckey, 'tail_impressions', g[7]) end
  redis.call('EXPIREAT', ckey, g[3])
  local ikey = p .. ':i:' .. g[1] .. ':' .. g[2]
  for item, n in pairs(g[8]) do redis.call('HINCRBY', ikey, item, n) end
  redis.call('EXPIREAT', ikey, g[3])
end
for _, r in ipairs(batch.r) do
  local rkey = p .. ':r:' .. r[1]
  local args = {}
  for item, v in pairs(r[3]) do
    args[#args + 1] = item
    args[#args + 1] = v
  end
  redis.call('HSET', rkey, unpack(args))
  redis.call('EXPIRE', rkey, r[2])
end
return #batch.r
"""

# Atomic click: check the shown list, mark the item clicked, count it in the showing bucket.
_CLICK_LUA = """
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return {0, '', ''} end
if string.sub(v, 1, 1) == 'c' then return {1, string.sub(v, 3), string.sub(v, 2, 2)} end
local tail = string.sub(v, 1, 1)
local bucket = string.sub(v, 2)
redis.call('HSET', KEYS[1], ARGV[1], 'c' .. v)
local key = ARGV[2] .. ':c:' .. bucket .. ':' .. ARGV[3]
redis.call('HINCRBY', key, 'clicks', 1)
if tail == '1' then
  redis.call('HINCRBY', key, 'tail_clicks', 1)
else
  redis.call('HINCRBY', key, 'head_clicks', 1)
end
redis.call('EXPIREAT', key, ARGV[4])
return {2, bucket, tail}
"""


class RedisExposureStore:
    name = "redis"

    def __init__(
        self,
        url: str,
        *,
        granularity_s: int = 60,
        retention_s: int = 86_400,
        click_ttl_s: int = 3_600,
        timeout_s: float = 0.25,
        key_prefix: str = "ltr",
        client: aioredis.Redis | None = None,
    ) -> None:
        self.granularity_s = granularity_s
        self.retention_s = retention_s
        self.click_ttl_s = click_ttl_s
        self.timeout_s = timeout_s
        self.prefix = key_prefix
        # Socket timeouts bound every operation; reconnection happens by itself on the next
        # command after a failure (the pool drops broken connections).
        self._redis: aioredis.Redis = client or aioredis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=timeout_s,
            socket_connect_timeout=timeout_s,
            retry=Retry(NoBackoff(), 0),
            retry_on_timeout=False,
        )
        self._record = self._redis.register_script(_RECORD_LUA)
        self._click = self._redis.register_script(_CLICK_LUA)

    def _expire_at(self, tb: int) -> int:
        return (tb + 1) * self.granularity_s + self.retention_s

    async def _bounded(self, op: str, coro: Any) -> Any:
        try:
            async with asyncio.timeout(self.timeout_s * 2):
                return await coro
        except (RedisError, OSError, TimeoutError) as e:
            raise StoreUnavailable(f"redis {op}: {type(e).__name__}: {e}") from e

    async def record(self, exposures: Sequence[Exposure]) -> None:
        if not exposures:
            return
        # Aggregate the batch first, so a burst costs one HINCRBY per distinct counter and item.
        counters: dict[tuple[str, int], Counts] = {}
        items: dict[tuple[str, int], dict[str, int]] = {}
        for e in exposures:
            key = (e.bucket, time_bucket(e.at, self.granularity_s))
            counters.setdefault(key, Counts()).add_exposure(e)
            per_item = items.setdefault(key, {})
            for item in e.item_ids:
                per_item[item] = per_item.get(item, 0) + 1
        groups = [
            [
                bucket,
                tb,
                self._expire_at(tb),
                c.requests,
                c.impressions,
                c.head_impressions,
                c.tail_impressions,
                items[(bucket, tb)],
            ]
            for (bucket, tb), c in counters.items()
        ]
        shown = [
            [
                e.request_id,
                self.click_ttl_s,
                {i: f"{int(t)}{e.bucket}" for i, t in zip(e.item_ids, e.tail, strict=True)},
            ]
            for e in exposures
            if e.item_ids
        ]
        payload = json.dumps({"g": groups, "r": shown}, ensure_ascii=False, separators=(",", ":"))
        await self._bounded("record", self._record(args=[self.prefix, payload]))

    async def click(self, click: Click) -> ClickResult:
        tb = time_bucket(click.at, self.granularity_s)
        result = await self._bounded(
            "click",
            self._click(
                keys=[f"{self.prefix}:r:{click.request_id}"],
                args=[click.item_id, self.prefix, tb, self._expire_at(tb)],
            ),
        )
        code, bucket, tail = int(result[0]), str(result[1]), str(result[2])
        if code == 0:
            return ClickResult(ClickOutcome.NOT_SHOWN)
        outcome = ClickOutcome.DUPLICATE if code == 1 else ClickOutcome.COUNTED
        return ClickResult(outcome, bucket, tail == "1")

    async def read(
        self, buckets: Sequence[str], start: float, end: float
    ) -> dict[str, BucketWindow]:
        tbs = list(time_buckets(start, end, self.granularity_s))
        pipe = self._redis.pipeline(transaction=False)
        for bucket in buckets:
            for tb in tbs:
                pipe.hgetall(f"{self.prefix}:c:{bucket}:{tb}")
                pipe.hgetall(f"{self.prefix}:i:{bucket}:{tb}")
        replies: list[dict[str, str]] = await self._bounded("read", pipe.execute())
        out: dict[str, BucketWindow] = {}
        pos = 0
        for bucket in buckets:
            window = BucketWindow()
            for tb in tbs:
                raw_counts, raw_items = replies[pos], replies[pos + 1]
                pos += 2
                if raw_counts:
                    point = Counts.from_mapping({k: int(v) for k, v in raw_counts.items()})
                    window.totals.add(point)
                    window.series.append((tb * self.granularity_s, point))
                for item, n in raw_items.items():
                    window.item_counts[item] = window.item_counts.get(item, 0) + int(n)
            out[bucket] = window
        return out

    async def ping(self) -> None:
        await self._bounded("ping", self._redis.ping())

    async def delete_all(self) -> int:
        """Remove every key under this store's prefix (tests and resets); returns the count."""
        keys = [k async for k in self._redis.scan_iter(match=f"{self.prefix}:*", count=1000)]
        if keys:
            await self._bounded("delete", self._redis.delete(*keys))
        return len(keys)

    async def close(self) -> None:
        await self._redis.aclose()


__all__ = ["COUNTERS", "RedisExposureStore"]
