"""Bundles for the serving benchmark: a trained bundle when one is given, else a random-weight
MIRec over random categorical features with the requested shape (serving cost depends on the
shapes, not on what the weights learned; the report says which one was used)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch

from models.bundle import write_bundle
from models.feature_batch import TensorTable
from models.feature_table import CategoricalField, FeatureTable
from models.mirec import MIRec
from models.spec import TowerSpec, field_specs

_CHUNK = 65_536


def _single(
    name: str, prefix: str, n: int, choices: int, rng: np.random.Generator
) -> CategoricalField:
    vocab = [f"{prefix}{j}" for j in range(choices)]
    return CategoricalField.from_single(name, [vocab[j] for j in rng.integers(0, choices, n)])


def _tables(n_users: int, n_items: int, seed: int) -> tuple[FeatureTable, FeatureTable]:
    rng = np.random.default_rng(seed)
    users = FeatureTable(
        (
            CategoricalField.from_single("user_id", [f"u{i}" for i in range(n_users)]),
            _single("gender", "g", n_users, 2, rng),
            _single("age", "a", n_users, 7, rng),
            _single("occupation", "o", n_users, 21, rng),
        )
    )
    genres = [f"genre{j}" for j in range(18)]
    items = FeatureTable(
        (
            CategoricalField.from_single("item_id", [f"i{i}" for i in range(n_items)]),
            CategoricalField.from_multi(
                "genres",
                [
                    [genres[j] for j in rng.choice(18, rng.integers(1, 4), replace=False)]
                    for _ in range(n_items)
                ],
            ),
            _single("year", "y", n_items, 80, rng),
        )
    )
    return users, items


def synthetic_bundle(
    out: Path,
    *,
    n_users: int,
    n_items: int,
    dim: int = 64,
    seed: int = 0,
    history_per_user: int = 0,
) -> Path:
    """A MIRec bundle (index_dim = 2·dim) with random weights; reused if already there.
    ``history_per_user``: that many distinct random items per user as the bundle's user history
    (what serving excludes for a known user; ML-1M's training split holds ~166 per user)."""
    manifest = out / "manifest.json"
    if manifest.exists():
        m = json.loads(manifest.read_text())
        same = m.get("n_items") == n_items and m.get("n_users") == n_users and m.get("dim") == dim
        if same and m.get("history_per_user", 0) == history_per_user:
            return out
    torch.manual_seed(seed)
    users, items = _tables(n_users, n_items, seed)
    spec = TowerSpec(dim=dim, hidden=(128, dim), field_dim=16)
    model = MIRec(field_specs(users), field_specs(items), spec).eval()
    table = TensorTable.from_table(items)
    with torch.inference_mode():
        emb = torch.cat(
            [
                model.item_index_vectors(table.gather(torch.arange(s, min(n_items, s + _CHUNK))))
                for s in range(0, n_items, _CHUNK)
            ]
        ).numpy()
    # Zipf popularity; the top 20% of items by count are head (docs/protocol.md).
    counts = np.sort(np.random.default_rng(seed).zipf(1.3, n_items).astype(np.int64))[::-1].copy()
    is_tail = np.ones(n_items, dtype=bool)
    is_tail[: n_items // 5] = False
    history = None
    extra: dict[str, object] = {"dataset": f"bench-random-{n_items}", "note": "random weights"}
    if history_per_user > 0:
        h = min(history_per_user, n_items)
        rng = np.random.default_rng(seed + 1)
        items_h = np.concatenate(
            [np.sort(rng.choice(n_items, size=h, replace=False)) for _ in range(n_users)]
        ).astype(np.int64)
        history = (np.arange(0, n_users * h + 1, h, dtype=np.int64), items_h)
        extra["history_per_user"] = history_per_user
    return write_bundle(
        out,
        kind="mirec",
        model=model,
        spec=spec,
        user_table=users,
        item_table=items,
        item_ids=[f"i{i}" for i in range(n_items)],
        user_ids=[f"u{i}" for i in range(n_users)],
        item_embeddings=np.ascontiguousarray(emb, dtype=np.float32),
        train_counts=counts,
        is_tail=is_tail,
        lambda_p=0.5,
        manifest_extra=extra,
        user_history=history,
    )
