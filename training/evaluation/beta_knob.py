"""The trivial popularity trade-off knob, applied post hoc to any scorer.

``score'(u, i) = score(u, i) − β · log(1 + train_count_i)``: β = 0 is the model itself, larger β
pushes popular items down. Each β gives one (overall HR@50, tail HR@50) point, so a sweep gives
every model a trade-off curve.

Scores of different models live on different scales (EASE's are about 0-1, a dot-product model's
tens), so the sweep is over a relative knob ``b``: ``β = b · scale`` with ``scale`` = the standard
deviation of the model's scores (over a fixed sample of validation users and all items) divided
by that of ``log(1 + count)``. ``b = 1`` is then a penalty as spread out as the scores themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from training.evaluation.evaluator import EvalResult, Scorer, evaluate
from training.protocol.prepared import Prepared

# The relative knob's default grid (b); 0 first: the model unchanged.
DEFAULT_GRID: tuple[float, ...] = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 0.8, 1.2, 2.0)
SCALE_SAMPLE_USERS = 512
MATERIALISE_MAX_BYTES = 1 << 30  # 1 GiB: ML-1M's 6k × 3.7k scores are 90 MB


def popularity_penalty(train_counts: np.ndarray) -> np.ndarray:
    """float32 ``[n_items]``: ``log(1 + count)``."""
    return np.log1p(np.asarray(train_counts, dtype=np.float64)).astype(np.float32)


def beta_scorer(scorer: Scorer, train_counts: np.ndarray, beta: float) -> Scorer:
    """``scorer`` minus ``beta · log(1 + train_counts)`` on every row; a new array per call."""
    pen = popularity_penalty(train_counts)  # [n_items]
    pen_t = torch.from_numpy(pen)

    def score(users: np.ndarray) -> np.ndarray | torch.Tensor:
        raw = scorer(users)
        if isinstance(raw, torch.Tensor):
            return raw.to(torch.float32) - beta * pen_t.to(raw.device)
        return np.asarray(raw, dtype=np.float32) - np.float32(beta) * pen

    return score


def score_scale(scorer: Scorer, p: Prepared) -> float:
    """std(scores) / std(log(1 + count)) over the first ``SCALE_SAMPLE_USERS`` validation users
    (finite scores only); 1.0 when either is degenerate."""
    users = p.split.eval_users("valid")[:SCALE_SAMPLE_USERS]
    raw = scorer(users)
    s = raw.detach().cpu().numpy() if isinstance(raw, torch.Tensor) else np.asarray(raw)
    s = s[np.isfinite(s)]
    pen_std = float(popularity_penalty(p.headtail.train_counts).std())
    s_std = float(s.std()) if s.size else 0.0
    return s_std / pen_std if s_std > 0 and pen_std > 0 else 1.0


def materialise(scorer: Scorer, p: Prepared, batch_size: int = 256) -> Scorer:
    """The scorer's rows for every user computed once (float32 ``[n_users, n_items]``), so that a
    sweep of many β values scores each user once instead of once per β. Kept lazy when the matrix
    would exceed ``MATERIALISE_MAX_BYTES``."""
    n_users, n_items = p.split.n_users, p.split.n_items
    if 4 * n_users * n_items > MATERIALISE_MAX_BYTES:
        return scorer
    full = np.empty((n_users, n_items), dtype=np.float32)
    for start in range(0, n_users, batch_size):
        users = np.arange(start, min(start + batch_size, n_users), dtype=np.int64)
        raw = scorer(users)
        full[users] = raw.detach().cpu().numpy() if isinstance(raw, torch.Tensor) else raw
    return lambda users: full[users]


def point(r: EvalResult) -> dict[str, float]:
    """The metrics a trade-off point carries: overall / tail / head HR@50 and overall NDCG@50."""
    return {
        "all_HR@50": r.metrics["all"]["HR@50"],
        "tail_HR@50": r.metrics["tail"]["HR@50"],
        "head_HR@50": r.metrics["head"]["HR@50"],
        "all_NDCG@50": r.metrics["all"]["NDCG@50"],
        "tail_share@50": r.exposure.get("tail_share@50", float("nan")),
    }


def beta_curve(
    scorer: Scorer,
    p: Prepared,
    grid: Sequence[float] = DEFAULT_GRID,
    batch_size: int = 256,
) -> dict[str, Any]:
    """Validation and test trade-off points for each relative knob ``b`` in ``grid``.

    Returns ``{"scale": s, "points": [{"b", "beta", "valid": point, "test": point}, ...]}``.
    """
    scale = score_scale(scorer, p)
    scorer = materialise(scorer, p, batch_size)
    points = []
    for b in grid:
        beta = float(b) * scale
        s = beta_scorer(scorer, p.headtail.train_counts, beta)
        row: dict[str, Any] = {"b": float(b), "beta": beta}
        for role in ("valid", "test"):
            r = evaluate(s, p.split, p.headtail, role=role, ks=(50,), batch_size=batch_size)
            row[role] = point(r)
        points.append(row)
    return {"scale": scale, "points": points}
