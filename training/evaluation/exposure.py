"""Beyond-accuracy (exposure) metrics over the top-K lists of all evaluated users.

Input: ``topk`` int64 ``[n_users, K]``, best first; an entry of -1 is padding (a user with fewer
than K rankable items). Padding is ignored everywhere; ``L_u`` below is user u's non-padding list.

- coverage@K   = |union of L_u| / n_items
- tail_share@K = mean over users with a non-empty L_u of |L_u ∩ tail| / |L_u|     (APLT)
- arp@K        = mean over users with a non-empty L_u of mean_{i in L_u} train_count(i)
- gini@K       = gini(c), c[i] = number of lists containing item i, over the WHOLE catalogue
                 (never-recommended items count as zero)

Gini of a count vector x of length n, sorted ascending x_(1) <= ... <= x_(n), i 1-based:

    G = sum_i (2i - n - 1) x_(i) / (n * sum_i x_i)

0 = perfectly even exposure; (n-1)/n = all exposure on one item. G = 0 when sum x = 0 (nothing
was recommended). With equal-length lists, tail_share and arp equal the ratio of totals
(tail impressions / impressions), which is what the online service computes per bucket.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from training.protocol.headtail import HeadTail


def gini(counts: np.ndarray) -> float:
    """Gini coefficient of non-negative counts (formula in the module docstring)."""
    x = np.sort(np.asarray(counts, dtype=np.float64).ravel())
    n = len(x)
    if n and x[0] < 0:
        raise ValueError("gini: counts must be non-negative")
    total = x.sum()
    if n == 0 or total == 0:
        return 0.0
    i = np.arange(1, n + 1, dtype=np.float64)
    return float(np.sum((2.0 * i - n - 1.0) * x) / (n * total))


def _check_topk(topk: np.ndarray, n_items: int) -> np.ndarray:
    t = np.asarray(topk)
    if t.ndim != 2 or (t.size and not np.issubdtype(t.dtype, np.integer)):
        raise ValueError("topk must be a 2-d integer array [n_users, K]")
    if t.size and (t.min() < -1 or t.max() >= n_items):
        raise ValueError(f"topk: item index outside [0, {n_items}) (and -1 for padding)")
    return t.astype(np.int64, copy=False)


def recommendation_counts(topk: np.ndarray, n_items: int) -> np.ndarray:
    """How many lists each item appears in: int64 ``[n_items]`` (padding ignored)."""
    t = _check_topk(topk, n_items)
    flat = t[t >= 0]
    return np.bincount(flat, minlength=n_items).astype(np.int64)


def coverage(topk: np.ndarray, n_items: int) -> float:
    return float(np.count_nonzero(recommendation_counts(topk, n_items))) / n_items


def _per_user_mean(topk: np.ndarray, value: np.ndarray) -> float:
    """Mean over users with a non-empty list of the mean of ``value[item]`` over the list."""
    valid = topk >= 0  # [n_users, K]
    lengths = valid.sum(axis=1)  # [n_users]
    per_item = np.where(valid, value[np.where(valid, topk, 0)], 0.0)  # [n_users, K]
    has = lengths > 0
    if not has.any():
        return 0.0
    return float(np.mean(per_item[has].sum(axis=1) / lengths[has]))


def tail_share(topk: np.ndarray, is_tail: np.ndarray) -> float:
    t = _check_topk(topk, len(is_tail))
    return _per_user_mean(t, np.asarray(is_tail, dtype=np.float64))


def average_recommendation_popularity(topk: np.ndarray, train_counts: np.ndarray) -> float:
    t = _check_topk(topk, len(train_counts))
    return _per_user_mean(t, np.asarray(train_counts, dtype=np.float64))


def exposure_metrics(topk: np.ndarray, headtail: HeadTail, ks: Sequence[int]) -> dict[str, float]:
    """``coverage@K, tail_share@K, arp@K, gini@K`` for each K, from lists at least max(ks) long.

    The top-K list is the first K columns of ``topk`` (best first).
    """
    t = _check_topk(topk, headtail.n_items)
    if ks and t.shape[1] < max(ks):
        raise ValueError(f"topk has {t.shape[1]} columns, fewer than K = {max(ks)}")
    out: dict[str, float] = {}
    for k in ks:
        tk = t[:, :k]
        counts = recommendation_counts(tk, headtail.n_items)
        out[f"coverage@{k}"] = float(np.count_nonzero(counts)) / headtail.n_items
        out[f"tail_share@{k}"] = tail_share(tk, headtail.is_tail)
        out[f"arp@{k}"] = average_recommendation_popularity(tk, headtail.train_counts)
        out[f"gini@{k}"] = gini(counts)
    return out
