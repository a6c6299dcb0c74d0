"""The training loop's shared machinery: optimiser, early stopping, the epoch tail, event logs.

Both trainers (``two_tower.py``, ``mirec.py``) use these, so that the rule "validate on the main
rank, broadcast the score, record the epoch, stop early, restore the best weights" exists once.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import torch
from torch import nn

from models.spec import TowerSpec, field_specs
from models.two_tower import TwoTower
from training.config import RunConfig
from training.data.dataset import Dataset
from training.trainers.context import log
from training.trainers.distributed import DistContext


def tower_spec(cfg: RunConfig) -> TowerSpec:
    m = cfg.model
    return TowerSpec(
        dim=m.dim,
        hidden=tuple(m.hidden),
        field_dim=m.field_dim,
        normalize=m.normalize,
        temperature=m.temperature,
    )


def new_two_tower(cfg: RunConfig, ds: Dataset) -> TwoTower:
    """A fresh two-tower of the configured shape over ``ds``'s fields, embeddings drawn at
    ``model.init_std`` when set."""
    model = TwoTower(field_specs(ds.user_features), field_specs(ds.item_features), tower_spec(cfg))
    if cfg.model.init_std is not None:
        model.init_embeddings(cfg.model.init_std)
    return model


def make_optimizer(params: Any, cfg: RunConfig) -> torch.optim.Optimizer:
    t = cfg.train
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay)
    if t.optimizer == "adagrad":
        return torch.optim.Adagrad(params, lr=t.lr, weight_decay=t.weight_decay)
    return torch.optim.SGD(params, lr=t.lr, weight_decay=t.weight_decay)


def budget_spent(cfg: RunConfig, t0: float) -> bool:
    """True once the run's ``train.time_budget_s`` (from ``t0``, a perf_counter value) is spent."""
    budget = cfg.train.time_budget_s
    return budget is not None and time.perf_counter() - t0 >= budget


def log_event(event: str, **fields: Any) -> None:
    log.info(json.dumps({"event": event, **fields}, default=float))


class EarlyStopper:
    """Early stopping on validation NDCG@50; keeps a copy of the best epoch's weights."""

    def __init__(self, patience: int) -> None:
        self.patience = patience
        self.best = -1.0
        self.best_epoch = -1
        self.best_state: dict[str, torch.Tensor] | None = None
        self.bad = 0

    def update(self, epoch: int, score: float, model: nn.Module) -> bool:
        """Record an epoch; True when training should stop."""
        if score > self.best:
            self.best, self.best_epoch, self.bad = score, epoch, 0
            self.best_state = copy.deepcopy(model.state_dict())
        else:
            self.bad += 1
        return self.bad >= self.patience

    def end_epoch(
        self,
        ctx: DistContext,
        epoch: int,
        score: float,
        model: nn.Module,
        history: list[dict[str, Any]],
        record: dict[str, Any],
    ) -> bool:
        """The epoch tail: log the main rank's record, share its validation score with every rank,
        append the record and decide on stopping (the same decision on every rank)."""
        if ctx.is_main:
            log_event("epoch", **record)
        score = ctx.broadcast_float(score)
        history.append(record)
        return self.update(epoch, score, model)

    def restore_best(self, model: nn.Module) -> None:
        if self.best_state is not None:
            model.load_state_dict(self.best_state)
