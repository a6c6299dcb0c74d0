"""Scorers for the evaluator built from exported vectors (the same arrays a bundle serves)."""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch

from training.config import RunConfig
from training.evaluation.evaluator import EvalResult, Scorer, evaluate
from training.protocol.prepared import Prepared


def embedding_scorer(user_vectors: np.ndarray, item_vectors: np.ndarray) -> Scorer:
    """Inner-product scorer: users ``[n_users, D]`` against items ``[n_items, D]``.

    This is exactly what the service's inner-product index computes, so offline metrics measured
    through it are the metrics of the served model.
    """
    users = torch.tensor(np.asarray(user_vectors, dtype=np.float32))
    items_t = torch.tensor(np.asarray(item_vectors, dtype=np.float32)).T.contiguous()

    def score(batch: np.ndarray) -> torch.Tensor:
        return users[torch.from_numpy(batch)] @ items_t  # [B, n_items]

    return score


def evaluate_vectors(
    user_vectors: np.ndarray,
    item_vectors: np.ndarray,
    p: Prepared,
    cfg: RunConfig,
    role: Literal["valid", "test"] = "valid",
) -> EvalResult:
    """Full-ranking evaluation of inner-product vectors on ``p``'s split (validation or test;
    validation on ``cfg.eval.valid_users`` sampled users when set)."""
    return evaluate(
        embedding_scorer(user_vectors, item_vectors),
        p.split,
        p.headtail,
        role=role,
        ks=tuple(cfg.eval.ks),
        batch_size=cfg.eval.batch_size,
        max_users=cfg.eval.valid_users if role == "valid" else None,
        seed=cfg.train.seed,
    )
