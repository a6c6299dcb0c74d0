"""``/healthz`` (the process answers), ``/readyz`` (bundles loaded; exposure store reachable or
degraded) and ``/metrics`` (Prometheus).

``/readyz`` answers 200 with ``"status": "degraded"`` when the exposure store is unreachable:
recommendations are still served, so a load balancer must keep sending traffic; only the stats
are affected. It pings the store with the store's own short timeout.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from service.exposure.store import StoreUnavailable
from service.metrics import CONTENT_TYPE
from service.state import StateDep

router = APIRouter()


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(state: StateDep) -> dict[str, Any]:
    store: dict[str, Any] = {"backend": state.store.name, "reachable": True}
    try:
        await state.store.ping()
        state.recorder.mark(True, "ping")
    except StoreUnavailable as e:
        state.recorder.mark(False, "ping")
        store.update(reachable=False, error=str(e))
    registry = state.registry.current
    return {
        "status": "ready" if store["reachable"] else "degraded",
        "exposure_store": store,
        "variants": registry.describe(),
        "buckets": {
            b: {"variant": c.variant, "weight": c.weight} for b, c in state.settings.buckets.items()
        },
    }


@router.get("/metrics")
async def metrics(state: StateDep) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
