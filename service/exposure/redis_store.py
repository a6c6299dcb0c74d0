"""Redis exposure store (``REDIS_URL``), on ``redis.asyncio``; standalone Redis, not Cluster.

Keys (``P`` = key prefix, ``T`` = time-bucket index = unix seconds // granularity):

- ``P:c:{bucket}:T`` hash of counters (``requests``, ``impressions``, ``head_impressions``,
  ``tail_impressions``, ``clicks``, ``head_clicks``, ``tail_clicks``);
- ``P:i:{bucket}:T`` hash item id -> impressions (coverage, Gini, Lorenz);
- ``P:tb`` sorted set of those two kinds of key, scored by the unix second they leave retention;
- ``P:r:{request_id}`` string: the packed shown list that clicks are checked against
  (service/exposure/shown.py), with a TTL of ``click_ttl_s``.

**Only shown lists carry a TTL.** Counters have none: retention is enforced by the record script
itself, which deletes the time-bucket keys whose ``P:tb`` score has passed (``retention_s`` after
their bucket ends). So under a ``volatile-*`` eviction policy (the compose Redis runs
``volatile-ttl``) Redis can only ever evict shown lists — a click on an evicted list is refused
like an expired one — and never a counter: exposure counts stay exact at the memory limit. When
nothing evictable is left, writes fail with OOM, which the recorder counts as dropped stats;
recommendations never wait on Redis.

A batch of served lists is **one** command: the batch, aggregated per (bucket, time bucket), is
sent as one JSON argument (plus one binary argument per shown list) to a Lua script that applies
every increment. So it is one round trip, atomic (wholly counted or not at all), and cheap for
the client: redis-py spends tens of microseconds packing and parsing each command, and a pipeline
of one ``HINCRBY`` per item cost more CPU than the recommendation itself. The client never retries
(a retried write whose reply was lost would count twice), so counting is at most once and a
failed batch is reported to the caller, which counts the drop. A click is two round trips (read
the list, then an atomic ``SETBIT`` + count). Reading a window is one pipelined round trip; its
cost grows with (window / granularity) × distinct items, so a long retention wants a coarser
granularity.
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
from service.exposure.shown import CLICKED_BIT, Shown, encode
from service.exposure.store import StoreUnavailable, time_bucket, time_buckets

# Atomic batch record. ARGV[1] = prefix, ARGV[2] = JSON {"g": [[bucket, tb, expire_at, requests,
# impressions, head, tail, {item: n}]...], "r": [[request_id, ttl]...]}, ARGV[3..] = the packed
# shown lists, in the order of "r". Then the time-bucket keys past retention are deleted (at most
# 256 per call: a backlog drains over the next calls).
_RECORD_LUA = """
local batch = cjson.decode(ARGV[2])
local p = ARGV[1]
local index = p .. ':tb'
for _, g in ipairs(batch.g) do
  local ckey = p .. ':c:' .. g[1] .. ':' .. g[2]
  redis.call('HINCRBY', ckey, 'requests', g[4])
  redis.call('HINCRBY', ckey, 'impressions', g[5])
  if g[6] > 0 then redis.call('HINCRBY', ckey, 'head_impressions', g[6]) end
  if g[7] > 0 then redis.call('HINCRBY', ckey, 'tail_impressions', g[7]) end
  local ikey = p .. ':i:' .. g[1] .. ':' .. g[2]
  for item, n in pairs(g[8]) do redis.call('HINCRBY', ikey, item, n) end
  redis.call('ZADD', index, g[3], ckey, g[3], ikey)
end
for j, r in ipairs(batch.r) do
  redis.call('SET', p .. ':r:' .. r[1], ARGV[2 + j], 'EX', r[2])
end
local now = tonumber(redis.call('TIME')[1])
local old = redis.call('ZRANGEBYSCORE', index, '-inf', now, 'LIMIT', 0, 256)
if #old > 0 then
  redis.call('DEL', unpack(old))
  redis.call('ZREM', index, unpack(old))
end
return #batch.r
"""

# Atomic click on a position already found in the shown list: -1 if the list expired meanwhile
# (checked first, so SETBIT never recreates a list without a TTL), 1 if already clicked, else 0
# and counted. ARGV = bit, prefix, bucket, tb, expire_at, tail (0|1).
_CLICK_LUA = """
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
if redis.call('SETBIT', KEYS[1], ARGV[1], 1) == 1 then return 1 end
local key = ARGV[2] .. ':c:' .. ARGV[3] .. ':' .. ARGV[4]
redis.call('HINCRBY', key, 'clicks', 1)
if ARGV[6] == '1' then
  redis.call('HINCRBY', key, 'tail_clicks', 1)
else
  redis.call('HINCRBY', key, 'head_clicks', 1)
end
redis.call('ZADD', ARGV[2] .. ':tb', ARGV[5], key)
return 0
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
            decode_responses=False,  # shown lists are binary; read() decodes the rest
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
        listed = [e for e in exposures if e.item_ids]
        shown = [[e.request_id, self.click_ttl_s] for e in listed]
        packed = [encode(e.bucket, e.rows, e.tail, e.catalogue) for e in listed]
        payload = json.dumps({"g": groups, "r": shown}, ensure_ascii=False, separators=(",", ":"))
        await self._bounded("record", self._record(args=[self.prefix, payload, *packed]))

    async def click(self, click: Click) -> ClickResult:
        key = f"{self.prefix}:r:{click.request_id}"
        raw: bytes | None = await self._bounded("click", self._redis.get(key))
        if raw is None:
            return ClickResult(ClickOutcome.NOT_SHOWN)
        shown = Shown.decode(raw)
        position = shown.position(click.item_id, click.catalogues)
        if position is None:
            return ClickResult(ClickOutcome.NOT_SHOWN)
        tail = bool(shown.tail[position])
        tb = time_bucket(click.at, self.granularity_s)
        code = await self._bounded(
            "click",
            self._click(
                keys=[key],
                args=[
                    CLICKED_BIT + position,
                    self.prefix,
                    shown.bucket,
                    tb,
                    self._expire_at(tb),
                    int(tail),
                ],
            ),
        )
        if int(code) < 0:
            return ClickResult(ClickOutcome.NOT_SHOWN)
        outcome = ClickOutcome.DUPLICATE if int(code) == 1 else ClickOutcome.COUNTED
        return ClickResult(outcome, shown.bucket, tail)

    async def read(
        self, buckets: Sequence[str], start: float, end: float
    ) -> dict[str, BucketWindow]:
        tbs = list(time_buckets(start, end, self.granularity_s))
        pipe = self._redis.pipeline(transaction=False)
        for bucket in buckets:
            for tb in tbs:
                pipe.hgetall(f"{self.prefix}:c:{bucket}:{tb}")
                pipe.hgetall(f"{self.prefix}:i:{bucket}:{tb}")
        replies: list[dict[bytes, bytes]] = await self._bounded("read", pipe.execute())
        out: dict[str, BucketWindow] = {}
        pos = 0
        for bucket in buckets:
            window = BucketWindow()
            for tb in tbs:
                raw_counts, raw_items = replies[pos], replies[pos + 1]
                pos += 2
                if raw_counts:
                    point = Counts.from_mapping({k.decode(): int(v) for k, v in raw_counts.items()})
                    window.totals.add(point)
                    window.series.append((tb * self.granularity_s, point))
                for raw_item, n in raw_items.items():
                    item = raw_item.decode("utf-8")
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
