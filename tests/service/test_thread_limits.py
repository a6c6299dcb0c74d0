"""One request must never fan out over several cores: after startup, torch and FAISS use one
thread on the serving (event-loop) thread, while index builds may use more on their own thread."""

from __future__ import annotations

import threading
from pathlib import Path

import faiss
import numpy as np
import pytest
import torch
from svc_helpers import service_settings

from service.app import create_app
from service.index import build_index
from service.settings import IndexOptions

pytestmark = pytest.mark.anyio


async def test_serving_thread_is_limited_to_one_thread(mirec_bundle: Path) -> None:
    faiss.omp_set_num_threads(2)
    torch.set_num_threads(2)  # as a fresh process on this machine would start
    settings = service_settings(mirec_bundle, build_threads=2, access_log=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert torch.get_num_threads() == 1
        assert faiss.omp_get_max_threads() == 1


def test_an_index_build_elsewhere_leaves_the_serving_thread_alone() -> None:
    faiss.omp_set_num_threads(1)
    seen: list[int] = []

    def build() -> None:
        build_index(np.ones((50, 4), dtype=np.float32), IndexOptions(), threads=2)
        seen.append(faiss.omp_get_max_threads())

    t = threading.Thread(target=build)
    t.start()
    t.join()
    assert seen == [1]  # the builder resets its own thread afterwards
    assert faiss.omp_get_max_threads() == 1
