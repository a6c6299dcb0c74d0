"""The app factory. ``create_app(settings)`` builds a FastAPI app whose lifespan:

1. limits torch and FAISS to one thread on the serving thread (one request must never fan out over
   several cores: under load that slows every request down);
2. loads and verifies every variant's bundle and builds its index (refusing to start, with a
   message naming the file, on a bad one);
3. opens the exposure store (``store=`` if injected, else Redis when ``redis_url`` is set, else
   in memory) and starts the background recorder;
4. on shutdown, drains the recorder and closes a store it opened itself.

Nothing is read from the environment here: settings come in as an argument.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import faiss
import torch
from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from service.ab import BucketAssigner
from service.auth import AccessPolicy
from service.errors import install_handlers
from service.exposure.memory import MemoryExposureStore
from service.exposure.recorder import ExposureRecorder
from service.exposure.redis_store import RedisExposureStore
from service.exposure.store import ExposureStore
from service.hot_path import HotPath
from service.metrics import ServiceMetrics
from service.middleware import ServiceMiddleware
from service.openapi import install as install_openapi
from service.registry import RegistryHolder, VariantLoadError
from service.routes import admin, dashboard, feedback, ops, recommend, stats
from service.settings import ServiceSettings
from service.state import ServiceState

log = logging.getLogger("service")

# FastAPI's telemetry with every signal off: ``enabled()`` is then False without asking the
# OpenTelemetry API for its providers on each request (ServiceSettings.otel).
_NO_TELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def limit_threads() -> None:
    torch.set_num_threads(1)
    faiss.omp_set_num_threads(1)  # OpenMP's count is per calling thread: call on the loop thread


def make_store(settings: ServiceSettings) -> ExposureStore:
    exposure = settings.exposure
    if settings.redis_url:
        return RedisExposureStore(
            settings.redis_url,
            granularity_s=exposure.granularity_s,
            retention_s=exposure.retention_s,
            click_ttl_s=exposure.click_ttl_s,
            timeout_s=exposure.timeout_s,
            key_prefix=exposure.key_prefix,
        )
    return MemoryExposureStore(
        granularity_s=exposure.granularity_s,
        retention_s=exposure.retention_s,
        click_ttl_s=exposure.click_ttl_s,
        max_requests=exposure.memory_max_requests,
    )


def log_access(settings: ServiceSettings) -> None:
    """Say at startup what is open and what is off, so nobody has to guess from a 401."""
    if settings.admin_token is None:
        log.warning("admin API disabled: no admin_token (ADMIN_TOKEN) is set")
    elif settings.bundle_root is None:
        log.info("reload re-reads the configured bundles only: no bundle_root is set")
    if settings.read_token is None:
        log.warning("/stats/* and /dashboard are open to anyone: no read_token (READ_TOKEN)")
    if settings.metrics_token is None:
        log.info("/metrics is open: no metrics_token (METRICS_TOKEN)")


def create_app(
    settings: ServiceSettings,
    *,
    store: ExposureStore | None = None,
    metrics: ServiceMetrics | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    metrics = metrics or ServiceMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_threads()
        try:
            registry = await RegistryHolder.load(settings)
        except VariantLoadError as e:
            log.error("refusing to start: %s", e)
            raise
        own_store = store is None
        exposure_store = store if store is not None else make_store(settings)
        exposure = settings.exposure
        recorder = ExposureRecorder(
            exposure_store,
            metrics,
            queue_size=exposure.queue_size,
            batch_max=exposure.batch_max,
            retry_interval_s=exposure.retry_interval_s,
        )
        state = ServiceState(
            settings=settings,
            metrics=metrics,
            registry=registry,
            assigner=BucketAssigner(
                {b: c.weight for b, c in settings.buckets.items()}, settings.ab.salt
            ),
            store=exposure_store,
            recorder=recorder,
            clock=clock,
        )
        state.publish_models()
        app.state.service = state
        # The loaded bundles (id maps, feature tables) are hundreds of thousands of long-lived
        # objects: move them out of the GC's reach so full collections stay short under load.
        gc.collect()
        gc.freeze()
        recorder.start()
        log.info(
            "serving %s with the %s exposure store",
            {n: d["model_version"] for n, d in registry.current.describe().items()},
            exposure_store.name,
        )
        log_access(settings)
        try:
            yield
        finally:
            await recorder.stop(drain_timeout_s=2.0)
            if own_store:
                await exposure_store.close()

    app = FastAPI(
        title="longtail-rec",
        summary="Long-tail-aware retrieval with per-bucket exposure accounting",
        version="0.1.0",
        lifespan=lifespan,
        telemetry=None if settings.otel else _NO_TELEMETRY,
    )

    install_handlers(app)
    for module in (recommend, feedback, stats, ops, admin, dashboard):
        app.include_router(module.router)
    install_openapi(app, settings)
    if settings.hot_path:
        # Added first, so it runs inside ServiceMiddleware (request id, limits, metrics, access
        # log).
        app.add_middleware(HotPath, routes=recommend.hot_routes())
    app.add_middleware(
        ServiceMiddleware,
        metrics=metrics,
        max_body_bytes=settings.max_body_bytes,
        log_requests=settings.access_log,
        policy=AccessPolicy(settings),
    )
    return app
