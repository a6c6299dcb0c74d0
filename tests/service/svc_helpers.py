"""Helpers for the service tests: small random-weight bundles and a live uvicorn server."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch
import uvicorn
from fastapi import FastAPI

from common.ports import free_port
from models.bundle import write_bundle
from models.feature_batch import TensorTable
from models.feature_table import CategoricalField, FeatureTable
from models.mirec import MIRec
from models.spec import TowerSpec, field_specs
from models.two_tower import TwoTower
from service.settings import ServiceSettings, settings_from_dict

GENRES = ("action", "comedy", "drama", "horror", "romance", "scifi")


def tables(n_users: int, n_items: int, seed: int) -> tuple[FeatureTable, FeatureTable]:
    rng = np.random.default_rng(seed)
    users = FeatureTable(
        (
            CategoricalField.from_single("user_id", [f"u{i}" for i in range(n_users)]),
            CategoricalField.from_single("gender", list(rng.choice(["F", "M"], n_users))),
            CategoricalField.from_single(
                "age", list(rng.choice(["18", "25", "35", "50"], n_users))
            ),
        )
    )
    items = FeatureTable(
        (
            CategoricalField.from_single("item_id", [f"i{i}" for i in range(n_items)]),
            CategoricalField.from_multi(
                "genres",
                [
                    list(rng.choice(GENRES, rng.integers(0, 3), replace=False))
                    for _ in range(n_items)
                ],
            ),
        )
    )
    return users, items


def make_bundle(
    out: Path,
    kind: str = "mirec",
    *,
    n_users: int = 60,
    n_items: int = 300,
    dim: int = 16,
    seed: int = 0,
    lambda_p: float = 0.5,
    user_history: tuple[np.ndarray, np.ndarray] | None = None,
) -> Path:
    """A bundle of a random-weight model (no training): enough to serve and to check the math."""
    torch.manual_seed(seed)
    users, items = tables(n_users, n_items, seed)
    spec = TowerSpec(dim=dim, hidden=(32, dim), field_dim=8)
    uf, itf = field_specs(users), field_specs(items)
    model = MIRec(uf, itf, spec) if kind == "mirec" else TwoTower(uf, itf, spec)
    model.eval()
    with torch.inference_mode():
        batch = TensorTable.from_table(items).all_rows()
        emb = model.item_index_vectors(batch) if kind == "mirec" else model.item_embed(batch)
    counts = np.sort(np.random.default_rng(seed).zipf(1.5, n_items).astype(np.int64))[::-1].copy()
    is_tail = np.ones(n_items, dtype=bool)
    is_tail[: max(1, n_items // 5)] = False  # the most popular fifth is head
    return write_bundle(
        out,
        kind=kind,
        model=model,
        spec=spec,
        user_table=users,
        item_table=items,
        item_ids=[f"i{i}" for i in range(n_items)],
        user_ids=[f"u{i}" for i in range(n_users)],
        item_embeddings=emb.numpy().astype(np.float32),
        train_counts=counts,
        is_tail=is_tail,
        lambda_p=lambda_p if kind == "mirec" else None,
        manifest_extra={"dataset": "service-test"},
        user_history=user_history,
    )


class LiveServer:
    """A real uvicorn server on a free port, in a background thread (real sockets, real HTTP)."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(
            uvicorn.Config(
                app,
                host="127.0.0.1",
                port=self.port,
                log_level="warning",
                access_log=False,
                lifespan="on",
            )
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self, timeout_s: float = 60.0) -> None:
        self.thread.start()
        deadline = time.monotonic() + timeout_s
        while not self.server.started:
            if not self.thread.is_alive():
                raise RuntimeError("server exited during startup")
            if time.monotonic() > deadline:
                raise TimeoutError("server did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@contextmanager
def live(app: FastAPI) -> Iterator[LiveServer]:
    server = LiveServer(app)
    server.start()
    try:
        yield server
    finally:
        server.stop()


ADMIN_TOKEN = "test-admin-token"


def service_settings(bundle: Path, **overrides: object) -> ServiceSettings:
    """Two buckets over one MIRec bundle: control at the manifest's λ_p, treatment at 0.2."""
    raw: dict[str, object] = {
        "variants": {
            "mirec_base": {"bundle": str(bundle)},
            "mirec_tail": {"bundle": str(bundle), "lambda_p": 0.2},
        },
        "buckets": {
            "control": {"variant": "mirec_base", "weight": 1},
            "treatment": {"variant": "mirec_tail", "weight": 1},
        },
        "admin_token": ADMIN_TOKEN,
        "access_log": True,
    }
    raw.update(overrides)
    return settings_from_dict(raw)
