"""``/healthz`` (the process answers), ``/readyz`` (bundles loaded; exposure store reachable or
degraded) and ``/metrics`` (Prometheus).

``/readyz`` answers 200 with ``"status": "degraded"`` when the exposure store is unreachable:
recommendations are still served, so a load balancer must keep sending traffic; only the stats
are affected. It pings the store with the store's own short timeout. It is public (probes call it),
so it names no host, port, path or exception text: the server log has the store's error.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from service.exposure.store import StoreUnavailable
from service.metrics import CONTENT_TYPE
from service.state import StateDep

router = APIRouter()
log = logging.getLogger("service.ops")


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
        log.warning("readyz: exposure store unreachable: %s", e)
        store.update(reachable=False, error="exposure store unreachable")
    registry = state.registry.current
    return {
        "status": "ready" if store["reachable"] else "degraded",
        "exposure_store": store,
        # Bundle directories are the server's business: everything but the path.
        "variants": {
            name: {k: v for k, v in desc.items() if k != "bundle"}
            for name, desc in registry.describe().items()
        },
        "buckets": {
            b: {"variant": c.variant, "weight": c.weight} for b, c in state.settings.buckets.items()
        },
    }


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {CONTENT_TYPE.split(";")[0]: {"schema": {"type": "string"}}},
        },
    },
)
async def metrics(state: StateDep) -> Response:
    return Response(state.metrics.render(), media_type=CONTENT_TYPE)
