"""The training recipe's options: early stopping, ids-only features, full / mixed negatives,
the per-run time budget (tiny synthetic preset, seconds)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from training.config import load_config
from training.protocol.features import with_features
from training.protocol.prepared import prepare
from training.trainers.distributed import DistContext
from training.trainers.loop import EarlyStopper
from training.trainers.two_tower import train_two_tower

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"


def test_early_stopper_picks_the_best_epoch_and_its_weights() -> None:
    model = nn.Linear(1, 1, bias=False)
    stopper = EarlyStopper(patience=2)
    scores = [0.10, 0.30, 0.20, 0.25, 0.40]  # best 0.30 at epoch 1, then two worse epochs
    stopped_at = None
    for epoch, s in enumerate(scores):
        with torch.no_grad():
            model.weight.fill_(float(epoch))
        if stopper.update(epoch, s, model):
            stopped_at = epoch
            break
    assert stopped_at == 3  # epoch 4's 0.40 is never seen
    assert stopper.best_epoch == 1
    stopper.restore_best(model)
    assert float(model.weight.detach()) == 1.0


def test_ids_features_keep_only_the_id_fields() -> None:
    cfg = load_config(TINY)
    p = prepare(cfg.data)
    assert len(p.dataset.item_features.names) > 1
    q = with_features(p, "ids")
    assert q.dataset.item_features.names == ("item_id",)
    assert q.dataset.user_features.names == ("user_id",)
    assert q.split is p.split and q.fingerprint == p.fingerprint
    assert with_features(p, "all") is p


@pytest.mark.parametrize("negatives", ["full", "mixed"])
def test_full_and_mixed_negatives_train_above_chance(negatives: str) -> None:
    cfg = load_config(
        TINY,
        [
            f"model.negatives={negatives}",
            "model.logq=true",
            "model.uniform_negatives=32",
            "train.epochs=3",
        ],
    )
    p = prepare(cfg.data)
    res = train_two_tower(cfg, p, DistContext())
    assert all(np.isfinite([h["train_loss"] for h in res.history]))
    assert res.valid is not None
    assert res.valid.metrics["all"]["HR@50"] > 1.5 * 50 / p.dataset.n_items


def test_ids_only_model_trains_through_the_same_trainer() -> None:
    cfg = load_config(
        TINY,
        [
            "model.features=ids",
            "model.negatives=full",
            "model.hidden=[16]",
            "model.field_dim=16",
            "train.epochs=2",
        ],
    )
    p = with_features(prepare(cfg.data), "ids")
    res = train_two_tower(cfg, p, DistContext())
    assert res.model.item_tower.field_names == ("item_id",)


def test_time_budget_stops_after_the_first_epoch() -> None:
    cfg = load_config(TINY, ["train.epochs=5", "train.time_budget_s=0.001"])
    res = train_two_tower(cfg, prepare(cfg.data), DistContext())
    assert len(res.history) == 1
    assert res.history[0]["stopped_by_time_budget"] is True
