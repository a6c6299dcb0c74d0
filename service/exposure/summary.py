"""Exposure metrics from raw counts, with the definitions of docs/protocol.md.

- coverage = distinct catalogue items shown / catalogue size;
- Gini over the **whole catalogue**, items never shown counted as zero (0 = even, → 1 = one item);
- tail share = tail impressions / impressions. This is impression-weighted; it equals the offline
  APLT (mean per-list tail fraction) whenever every list has the same length k.
- Lorenz curve points (x = share of the catalogue, least exposed first; y = share of impressions).

Counts for items that are no longer in the catalogue (e.g. after a reload to a new bundle) are
ignored here, so coverage never exceeds 1.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def _catalogue_counts(item_counts: dict[str, int], catalogue: frozenset[str] | None) -> np.ndarray:
    values: Iterable[int] = (
        item_counts.values()
        if catalogue is None
        else (c for item, c in item_counts.items() if item in catalogue)
    )
    counts = np.fromiter((c for c in values if c > 0), dtype=np.int64)
    counts.sort()
    return counts


def coverage(distinct: int, catalogue_size: int) -> float:
    return distinct / catalogue_size if catalogue_size > 0 else 0.0


def gini(nonzero_sorted: np.ndarray, catalogue_size: int) -> float | None:
    """Gini of ``catalogue_size`` counts of which only the (ascending) nonzero ones are given."""
    n = catalogue_size
    total = float(nonzero_sorted.sum())
    if n == 0 or total == 0.0:
        return None
    m = len(nonzero_sorted)
    ranks = np.arange(n - m + 1, n + 1, dtype=np.float64)  # 1-based ranks after the n - m zeros
    return float(((2.0 * ranks - n - 1.0) * nonzero_sorted).sum() / (n * total))


def lorenz(nonzero_sorted: np.ndarray, catalogue_size: int, points: int) -> list[list[float]]:
    """``points`` evenly spaced (x, y) pairs of the Lorenz curve, from (0, 0) to (1, 1)."""
    n = catalogue_size
    total = float(nonzero_sorted.sum())
    xs = np.linspace(0.0, 1.0, points)
    if n == 0 or total == 0.0:
        return [[float(x), float(x)] for x in xs]
    m = len(nonzero_sorted)
    cum = np.concatenate([[0.0], np.cumsum(nonzero_sorted, dtype=np.float64)])
    js = np.rint(xs * n).astype(np.int64)  # number of least exposed items included
    ys = cum[np.clip(js - (n - m), 0, m)] / total
    return [[float(x), float(y)] for x, y in zip(xs, ys, strict=True)]


def item_summary(
    item_counts: dict[str, int], catalogue: frozenset[str] | None, catalogue_size: int, points: int
) -> tuple[int, float, float | None, list[list[float]]]:
    """(distinct items, coverage, gini, lorenz points) over the catalogue."""
    counts = _catalogue_counts(item_counts, catalogue)
    return (
        len(counts),
        coverage(len(counts), catalogue_size),
        gini(counts, catalogue_size),
        lorenz(counts, catalogue_size, points),
    )


def share(part: int, whole: int) -> float | None:
    return part / whole if whole > 0 else None
