"""``GET /stats/exposure`` and ``GET /stats/ab``: per-bucket reports over a time window.

``window_s`` (default and maximum: the retention) ends now; the store sums the time buckets that
overlap it, so the effective window is rounded out to whole ``granularity_s`` buckets. Coverage
and Gini are over the catalogue of the variant each bucket serves now.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from service.errors import ClientError, field_error
from service.exposure.events import BucketWindow
from service.exposure.report import Catalogue, ab_report, exposure_report
from service.exposure.store import StoreUnavailable
from service.state import ServiceState, StateDep

router = APIRouter()
log = logging.getLogger("service.stats")

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Unknown bucket"},
    422: {"description": "Invalid parameter; detail[].loc names it"},
    503: {"description": "Exposure store unavailable"},
}

WindowS = Annotated[int | None, Query(ge=1, description="seconds back from now; default: all")]
BucketQ = Annotated[str | None, Query(max_length=64, description="one bucket; default: all")]


async def _read(
    state: ServiceState, window_s: int | None, bucket: str | None
) -> tuple[dict[str, BucketWindow], float, float]:
    retention = state.settings.exposure.retention_s
    if window_s is not None and window_s > retention:
        raise ClientError(
            422,
            ["query", "window_s"],
            f"window_s must be at most the retention, {retention} s",
            "too_large",
        )
    names = list(state.settings.buckets)
    if bucket is not None:
        if bucket not in names:
            raise ClientError(
                400,
                ["query", "bucket"],
                f"unknown bucket {bucket!r}; valid buckets are {', '.join(names)}",
                "unknown_bucket",
                valid_buckets=names,
            )
        names = [bucket]
    if state.recorder.healthy:  # include what is still queued, unless the store is failing
        await state.recorder.flush(state.settings.exposure.timeout_s)
    end = state.clock()
    start = end - (window_s or retention)
    windows = await state.store.read(names, start, end)
    return windows, start, end


def _unavailable(state: ServiceState, e: StoreUnavailable) -> JSONResponse:
    state.recorder.mark(False, "read")
    log.warning("stats: exposure store unavailable: %s", e)  # the detail stays in the log
    return field_error(503, ["store"], "exposure store unavailable", "store_unavailable")


def _header(state: ServiceState, start: float, end: float) -> dict[str, Any]:
    return {
        "store": state.store.name,
        "from": start,
        "to": end,
        "granularity_s": state.store.granularity_s,
    }


@router.get("/stats/exposure", responses=_ERRORS)
async def exposure_stats(
    state: StateDep,
    window_s: WindowS = None,
    bucket: BucketQ = None,
    lorenz_points: Annotated[int, Query(ge=2, le=1001)] = 21,
    top_items: Annotated[int, Query(ge=0, le=1000)] = 0,
) -> JSONResponse:
    try:
        windows, start, end = await _read(state, window_s, bucket)
    except StoreUnavailable as e:
        return _unavailable(state, e)
    state.recorder.mark(True, "read")
    registry = state.registry.current
    catalogues = {}
    for b in windows:
        v = registry.for_bucket(b)
        catalogues[b] = Catalogue(v.name, v.serving.n_items, v.serving.catalogue)
    report = exposure_report(windows, catalogues, lorenz_points=lorenz_points, top_items=top_items)
    return JSONResponse({**_header(state, start, end), "buckets": report})


@router.get("/stats/ab", responses={k: v for k, v in _ERRORS.items() if k != 400})
async def ab_stats(
    state: StateDep, window_s: WindowS = None
) -> JSONResponse:
    try:
        windows, start, end = await _read(state, window_s, None)
    except StoreUnavailable as e:
        return _unavailable(state, e)
    state.recorder.mark(True, "read")
    variants = {b: c.variant for b, c in state.settings.buckets.items()}
    return JSONResponse(
        {
            **_header(state, start, end),
            "test": "two-proportion z-test, pooled, two-sided",
            "buckets": ab_report(windows, variants),
        }
    )
