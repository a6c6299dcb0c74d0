"""A trained model reduced to what a bundle serves: index vectors for items and query vectors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from torch import nn

from models.bundle import BundleKind
from models.feature_batch import TensorTable
from models.spec import TowerSpec
from models.two_tower import TwoTower
from training.evaluation.evaluator import EvalResult
from training.protocol.prepared import Prepared
from training.trainers.embed import embed_table

# Same batch size as the bundle's user-vector path (training/evaluation/user_vectors.py), so that
# the metrics measured at the end of training and those of the reloaded bundle see identical floats.
EXPORT_BATCH = 4096


@dataclass
class Exported:
    kind: BundleKind
    model: nn.Module
    spec: TowerSpec
    user_vectors: np.ndarray  # float32 [n_users, index_dim]
    item_vectors: np.ndarray  # float32 [n_items, index_dim]
    valid: EvalResult | None
    lambda_p: float | None = None
    training_info: dict[str, Any] = field(default_factory=dict)
    manifest_extra: dict[str, Any] = field(default_factory=dict)


def export_model(
    model: TwoTower,
    p: Prepared,
    *,
    kind: BundleKind,
    valid: EvalResult | None,
    history: list[dict[str, Any]],
    best_epoch: int,
    seconds: float,
    examples_per_second: float,
) -> Exported:
    model = model.cpu().eval()
    users = embed_table(
        model.user_embed, TensorTable.from_table(p.dataset.user_features), EXPORT_BATCH
    )
    items = embed_table(
        model.item_embed, TensorTable.from_table(p.dataset.item_features), EXPORT_BATCH
    )
    return Exported(
        kind=kind,
        model=model,
        spec=model.spec,
        user_vectors=users,
        item_vectors=items,
        valid=valid,
        training_info={
            "history": history,
            "best_epoch": best_epoch,
            "seconds": seconds,
            "examples_per_second": examples_per_second,
        },
    )
