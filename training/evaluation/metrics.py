"""Accuracy metrics for one held-out item per user, from the 1-based rank of that item.

With the target at rank r (1-based; any value > K, e.g. a large sentinel, means "not in the top
K"):

- HR@K   = 1 if r <= K else 0            (equal to Recall@K for one target)
- NDCG@K = 1 / log2(r + 1) if r <= K else 0
- MAP@K  = 1 / r if r <= K else 0        (equal to MRR@K for one target)

The per-user functions return float64 ``[n_users]``; :func:`ranking_metrics` averages them. The
mean over zero users is reported as 0.0 (results carry the user count beside it), which keeps the
JSON free of NaN.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

METRIC_NAMES: tuple[str, ...] = ("HR", "NDCG", "MAP")


def _ranks(ranks: np.ndarray) -> np.ndarray:
    r = np.asarray(ranks)
    if r.ndim != 1 or (len(r) and not np.issubdtype(r.dtype, np.integer)):
        raise ValueError("ranks must be a 1-d integer array of 1-based ranks")
    if len(r) and r.min() < 1:
        raise ValueError(f"ranks are 1-based; got a rank of {int(r.min())}")
    return r.astype(np.int64, copy=False)


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"K must be >= 1, got {k}")


def hit_rate(ranks: np.ndarray, k: int) -> np.ndarray:
    """HR@K per user: float64 ``[n_users]`` of 0/1."""
    _check_k(k)
    return (_ranks(ranks) <= k).astype(np.float64)


def ndcg(ranks: np.ndarray, k: int) -> np.ndarray:
    """NDCG@K per user (the ideal DCG of one relevant item is 1)."""
    _check_k(k)
    r = _ranks(ranks)
    hit = r <= k
    out = np.zeros(len(r), dtype=np.float64)
    out[hit] = 1.0 / np.log2(r[hit].astype(np.float64) + 1.0)
    return out


def average_precision(ranks: np.ndarray, k: int) -> np.ndarray:
    """MAP@K per user (average precision of one relevant item = 1/r)."""
    _check_k(k)
    r = _ranks(ranks)
    hit = r <= k
    out = np.zeros(len(r), dtype=np.float64)
    out[hit] = 1.0 / r[hit].astype(np.float64)
    return out


_PER_USER = {"HR": hit_rate, "NDCG": ndcg, "MAP": average_precision}


def ranking_metrics(ranks: np.ndarray, ks: Sequence[int]) -> dict[str, float]:
    """``{"HR@K", "NDCG@K", "MAP@K"}`` for each K, averaged over users (0.0 over no users)."""
    r = _ranks(ranks)
    out: dict[str, float] = {}
    for name in METRIC_NAMES:
        for k in ks:
            values = _PER_USER[name](r, k)
            out[f"{name}@{k}"] = float(values.mean()) if len(values) else 0.0
    return out
