"""The recorder keeps the store off the request path: it never blocks, counts what it drops, and
goes back to the store by itself after a failure."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from service.exposure.events import BucketWindow, Click, ClickResult, Exposure
from service.exposure.memory import MemoryExposureStore
from service.exposure.recorder import ExposureRecorder
from service.exposure.store import StoreUnavailable
from service.metrics import ServiceMetrics

pytestmark = pytest.mark.anyio


class FlakyStore:
    """A store that fails, or hangs, on demand, and remembers what it recorded."""

    name = "flaky"
    granularity_s = 60

    def __init__(self) -> None:
        self.fail = False
        self.hang = asyncio.Event()
        self.hang.set()
        self.calls = 0
        self.recorded: list[Exposure] = []

    async def record(self, exposures: Sequence[Exposure]) -> None:
        self.calls += 1
        await self.hang.wait()
        if self.fail:
            raise StoreUnavailable("down")
        self.recorded.extend(exposures)

    async def click(self, click: Click) -> ClickResult:
        raise NotImplementedError

    async def read(
        self, buckets: Sequence[str], start: float, end: float
    ) -> dict[str, BucketWindow]:
        return {}

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        return None


def ev(i: int) -> Exposure:
    return Exposure("control", f"r{i}", ("a", "b"), (False, True), 1000.0, (0, 1), 1)


def sample(m: ServiceMetrics, name: str, labels: dict[str, str] | None = None) -> float:
    return m.registry.get_sample_value(name, labels or {}) or 0.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_batches_are_written_and_flush_waits_for_them() -> None:
    store, m = FlakyStore(), ServiceMetrics()
    r = ExposureRecorder(store, m, batch_max=8)
    r.start()
    for i in range(20):
        assert r.submit(ev(i))
    assert await r.flush(2.0)
    assert [e.request_id for e in store.recorded] == [f"r{i}" for i in range(20)]
    assert store.calls <= 20  # batched: at most one store call per served list
    assert sample(m, "longtail_exposure_events_recorded_total") == 20
    await r.stop()


async def test_failure_drops_counts_and_backs_off_then_recovers() -> None:
    store, m, clock = FlakyStore(), ServiceMetrics(), FakeClock()
    r = ExposureRecorder(store, m, batch_max=1, retry_interval_s=5.0, clock=clock)
    r.start()
    store.fail = True
    r.submit(ev(0))
    await r.flush(2.0)
    assert not r.healthy
    assert (
        sample(m, "longtail_exposure_store_errors_total", {"store": "flaky", "op": "record"}) == 1
    )
    assert sample(m, "longtail_exposure_store_up", {"store": "flaky"}) == 0
    calls = store.calls
    r.submit(ev(1))  # within the back-off: dropped without calling the store
    await r.flush(2.0)
    assert store.calls == calls
    assert sample(m, "longtail_exposure_events_dropped_total", {"reason": "store_unavailable"}) == 1
    store.fail = False
    clock.now = 6.0  # back-off over: the next list goes to the store again
    r.submit(ev(2))
    await r.flush(2.0)
    assert r.healthy and [e.request_id for e in store.recorded] == ["r2"]
    assert sample(m, "longtail_exposure_store_up", {"store": "flaky"}) == 1
    await r.stop()


async def test_a_hung_store_never_blocks_submit_and_a_full_queue_drops() -> None:
    store, m = FlakyStore(), ServiceMetrics()
    store.hang.clear()
    r = ExposureRecorder(store, m, queue_size=5, batch_max=1)
    r.start()
    await asyncio.sleep(0)
    accepted = [r.submit(ev(i)) for i in range(10)]  # returns at once although the store hangs
    assert accepted.count(False) >= 4
    assert sample(m, "longtail_exposure_events_dropped_total", {"reason": "queue_full"}) >= 4
    assert not await r.flush(0.05)  # flush is bounded too
    store.hang.set()
    assert await r.flush(2.0)
    await r.stop()


async def test_stop_drains_what_is_queued() -> None:
    store, m = MemoryExposureStore(), ServiceMetrics()
    r = ExposureRecorder(store, m)
    r.start()
    for i in range(3):
        r.submit(ev(i))
    await r.stop()
    assert (await store.read(["control"], 1000, 1000))["control"].totals.requests == 3
