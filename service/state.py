"""What the request handlers need, built by the app's lifespan and injected with ``Depends``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from service.ab import BucketAssigner
from service.exposure.recorder import ExposureRecorder
from service.exposure.store import ExposureStore
from service.metrics import ServiceMetrics
from service.registry import RegistryHolder
from service.settings import ServiceSettings


@dataclass
class ServiceState:
    settings: ServiceSettings
    metrics: ServiceMetrics
    registry: RegistryHolder
    assigner: BucketAssigner
    store: ExposureStore
    recorder: ExposureRecorder
    clock: Callable[[], float]  # unix seconds; injectable so tests can move time

    def publish_models(self) -> None:
        """Expose the loaded bundles as ``longtail_model_info`` (after startup and each reload)."""
        info = self.metrics.model_info
        info.clear()
        for name, desc in self.registry.current.describe().items():
            info.labels(
                name, desc["kind"], desc["model_version"], str(desc["n_items"]), desc["index"]
            ).set(1)
        recall = self.metrics.index_recall
        recall.clear()
        for name, desc in self.registry.current.describe().items():
            for part in ("head", "tail"):
                value = (desc["recall"] or {}).get(part)
                if value is not None:
                    recall.labels(name, part).set(value)


async def get_state(request: Request) -> ServiceState:
    # async on purpose: FastAPI runs a plain ``def`` dependency in a worker thread, and that hop
    # would cost more than the whole recommendation for a small catalogue.
    state: ServiceState = request.app.state.service
    return state


# The state as a route parameter: ``state: StateDep`` (not for /recommend, which takes only the
# request; see service/routes/recommend.py).
StateDep = Annotated[ServiceState, Depends(get_state)]
