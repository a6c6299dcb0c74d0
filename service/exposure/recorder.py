"""Records served lists off the request path: a bounded queue drained by one background task.

Why: a slow or dead Redis must not add latency to recommendations. ``submit`` never waits; the
worker writes whatever is queued (up to ``batch_max`` lists) in one store call, i.e. one Redis round
trip. When the queue is full, or the store fails, the lists are dropped and counted in /metrics
(``longtail_exposure_events_dropped_total``); after a failure the worker stops calling the store for
``retry_interval_s`` (so a dead Redis is not hammered), then tries again — which is how it
reconnects by itself. Stats are therefore at most once: an outage loses counts, never duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable

from service.exposure.events import Exposure
from service.exposure.store import ExposureStore, StoreUnavailable
from service.metrics import ServiceMetrics

log = logging.getLogger("service.exposure")


class ExposureRecorder:
    def __init__(
        self,
        store: ExposureStore,
        metrics: ServiceMetrics,
        *,
        queue_size: int = 10_000,
        batch_max: int = 256,
        retry_interval_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self._metrics = metrics
        self._queue: asyncio.Queue[Exposure] = asyncio.Queue(maxsize=queue_size)
        self._batch_max = batch_max
        self._retry_interval_s = retry_interval_s
        self._clock = clock
        self._closed_until = 0.0  # monotonic time before which the store is not tried again
        self._task: asyncio.Task[None] | None = None
        self.healthy = True  # outcome of the last store call
        metrics.store_up.labels(store.name).set(1)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="exposure-recorder")

    def submit(self, exposure: Exposure) -> bool:
        """Queue one served list; False (and counted) if it had to be dropped."""
        try:
            self._queue.put_nowait(exposure)
        except asyncio.QueueFull:
            self._metrics.events_dropped.labels("queue_full").inc()
            return False
        self._metrics.queue_depth.set(self._queue.qsize())
        return True

    async def flush(self, timeout_s: float) -> bool:
        """Wait until everything queued so far is written or dropped; False on timeout."""
        try:
            async with asyncio.timeout(timeout_s):
                await self._queue.join()
            return True
        except TimeoutError:
            return False

    def mark(self, ok: bool, op: str) -> None:
        """Record the outcome of any store call (also the ones made by request handlers)."""
        self.healthy = ok
        self._metrics.store_up.labels(self.store.name).set(1 if ok else 0)
        if not ok:
            self._metrics.store_errors.labels(self.store.name, op).inc()

    async def _write(self, batch: list[Exposure]) -> None:
        if self._clock() < self._closed_until:
            self._metrics.events_dropped.labels("store_unavailable").inc(len(batch))
            return
        try:
            await self.store.record(batch)
        except StoreUnavailable as e:
            self._closed_until = self._clock() + self._retry_interval_s
            self.mark(False, "record")
            self._metrics.events_dropped.labels("store_error").inc(len(batch))
            log.warning("exposure batch of %d dropped: %s", len(batch), e)
            return
        except Exception:  # a bug in a store must not stop the recorder for good
            self.mark(False, "record")
            self._metrics.events_dropped.labels("store_error").inc(len(batch))
            log.exception("exposure batch of %d dropped", len(batch))
            return
        self.mark(True, "record")
        self._metrics.events_recorded.inc(len(batch))

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < self._batch_max:
                try:
                    batch.append(self._queue.get_nowait())
                except asyncio.QueueEmpty:
                    break
            try:
                await self._write(batch)
            finally:
                for _ in batch:
                    self._queue.task_done()
                self._metrics.queue_depth.set(self._queue.qsize())

    async def stop(self, drain_timeout_s: float = 2.0) -> None:
        """Write what is queued (bounded by the timeout), then stop the worker."""
        if self._task is None:
            return
        await self.flush(drain_timeout_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
