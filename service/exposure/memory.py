"""In-memory exposure store: the embedded default when no ``REDIS_URL`` is set.

Per process (so per replica: run one worker, or use Redis for a shared view). Old time buckets are
dropped once they fall out of ``retention_s``; the shown lists that clicks are checked against are
kept for ``click_ttl_s`` and at most ``max_requests`` of them (oldest forgotten first), so memory is
bounded whatever the traffic. Every method runs without an ``await`` inside, so on one event loop
each call is atomic.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

from service.exposure.events import (
    BucketWindow,
    Click,
    ClickOutcome,
    ClickResult,
    Counts,
    Exposure,
)
from service.exposure.shown import Shown, encode, mark_clicked
from service.exposure.store import time_bucket, time_buckets

# A shown list: (at, the packed list of service/exposure/shown.py). A tuple of a float and a
# bytearray on purpose: CPython's GC stops tracking such tuples, so the up to ``max_requests``
# lists kept here add nothing to a full collection. As dataclasses holding a dict and a set they
# were ~3 tracked objects each, and full collections over 200,000 of them stalled the event loop
# for ~100 ms (p99 at 1 connection, docs/benchmarks/serving.md).
_Kept = tuple[float, bytearray]


class MemoryExposureStore:
    name = "memory"

    def __init__(
        self,
        *,
        granularity_s: int = 60,
        retention_s: int = 86_400,
        click_ttl_s: int = 3_600,
        max_requests: int = 200_000,
    ) -> None:
        self.granularity_s = granularity_s
        self.retention_s = retention_s
        self.click_ttl_s = click_ttl_s
        self.max_requests = max_requests
        self._counts: dict[tuple[str, int], Counts] = {}
        self._items: dict[tuple[str, int], dict[str, int]] = {}
        self._shown: OrderedDict[str, _Kept] = OrderedDict()
        self._pruned_before = 0

    def _prune(self, now: float) -> None:
        oldest = time_bucket(now - self.retention_s, self.granularity_s)
        if oldest > self._pruned_before:
            for key in [k for k in self._counts if k[1] < oldest]:
                del self._counts[key]
                self._items.pop(key, None)
            self._pruned_before = oldest
        while self._shown:
            first = next(iter(self._shown.values()))
            if now - first[0] <= self.click_ttl_s and len(self._shown) <= self.max_requests:
                break
            self._shown.popitem(last=False)

    async def record(self, exposures: Sequence[Exposure]) -> None:
        for e in exposures:
            key = (e.bucket, time_bucket(e.at, self.granularity_s))
            self._counts.setdefault(key, Counts()).add_exposure(e)
            items = self._items.setdefault(key, {})
            for item in e.item_ids:
                items[item] = items.get(item, 0) + 1
            if e.item_ids:
                packed = bytearray(encode(e.bucket, e.rows, e.tail, e.catalogue))
                self._shown[e.request_id] = (e.at, packed)
                self._shown.move_to_end(e.request_id)
        if exposures:
            self._prune(max(e.at for e in exposures))

    async def click(self, click: Click) -> ClickResult:
        kept = self._shown.get(click.request_id)
        if kept is None or click.at - kept[0] > self.click_ttl_s:
            return ClickResult(ClickOutcome.NOT_SHOWN)
        shown = Shown.decode(kept[1])
        position = shown.position(click.item_id, click.catalogues)
        if position is None:
            return ClickResult(ClickOutcome.NOT_SHOWN)
        bucket, tail = shown.bucket, bool(shown.tail[position])
        if mark_clicked(kept[1], position):
            return ClickResult(ClickOutcome.DUPLICATE, bucket, tail)
        c = self._counts.setdefault((bucket, time_bucket(click.at, self.granularity_s)), Counts())
        c.clicks += 1
        if tail:
            c.tail_clicks += 1
        else:
            c.head_clicks += 1
        return ClickResult(ClickOutcome.COUNTED, bucket, tail)

    async def read(
        self, buckets: Sequence[str], start: float, end: float
    ) -> dict[str, BucketWindow]:
        out: dict[str, BucketWindow] = {}
        tbs = time_buckets(start, end, self.granularity_s)
        for bucket in buckets:
            window = BucketWindow()
            for tb in tbs:
                c = self._counts.get((bucket, tb))
                if c is None:
                    continue
                window.totals.add(c)
                point = Counts()
                point.add(c)
                window.series.append((tb * self.granularity_s, point))
                for item, n in self._items.get((bucket, tb), {}).items():
                    window.item_counts[item] = window.item_counts.get(item, 0) + n
            out[bucket] = window
        return out

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None
