"""The exposure store interface. Two implementations pass the same contract tests:
``MemoryExposureStore`` (embedded default) and ``RedisExposureStore`` (``REDIS_URL``).

Time is cut into buckets of ``granularity_s`` seconds; a window read sums the time buckets that
overlap [start, end]. Clicks are accepted only for an item that a still-remembered request
(``click_ttl_s``) actually showed, once per (request, item), and are attributed to the bucket that
showed it — so no client can push a bucket's click-through above 1 or credit another bucket.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from service.exposure.events import BucketWindow, Click, ClickResult, Exposure


class StoreUnavailable(RuntimeError):
    """The store could not be reached in time; the caller degrades (the stats, never the lists)."""


@runtime_checkable
class ExposureStore(Protocol):
    name: str
    granularity_s: int

    async def record(self, exposures: Sequence[Exposure]) -> None:
        """Count a batch of served lists; atomic per batch, one round trip."""

    async def click(self, click: Click) -> ClickResult: ...

    async def read(
        self, buckets: Sequence[str], start: float, end: float
    ) -> dict[str, BucketWindow]:
        """Counts per bucket over time buckets overlapping [start, end] (unix seconds)."""
        ...

    async def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the store answers within its timeout."""

    async def close(self) -> None: ...


def time_bucket(at: float, granularity_s: int) -> int:
    """Index of the time bucket holding ``at``."""
    return int(at // granularity_s)


def time_buckets(start: float, end: float, granularity_s: int) -> range:
    return range(time_bucket(start, granularity_s), time_bucket(end, granularity_s) + 1)
