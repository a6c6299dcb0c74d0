"""MIRec's training sets: Ω* (all training interactions) and Ω(k) (head items cut to exactly k)."""

from __future__ import annotations

import numpy as np


def omega_k_mask(
    items: np.ndarray, is_tail: np.ndarray, k: int, rng: np.random.Generator
) -> np.ndarray:
    """Boolean mask over training interactions selecting Ω(k).

    Every head item keeps exactly ``k`` of its interactions, drawn uniformly at random; every tail
    item keeps all of them. Head items have at least k interactions by the head/tail definition
    (ties at the boundary go to head), so each head item ends with exactly k. Vectorised: sort by
    (item, random key) and keep the first k of each head item's run.

    items: int64 [n]; is_tail: bool [n_items]; returns bool [n].
    """
    n = len(items)
    order = np.lexsort((rng.random(n), items))  # group by item, random order within the group
    sorted_items = items[order]
    starts = np.searchsorted(sorted_items, sorted_items, side="left")  # first row of each group
    rank = np.arange(n) - starts  # 0-based position within the item's (shuffled) group
    keep_sorted = is_tail[sorted_items] | (rank < k)
    keep = np.empty(n, dtype=bool)
    keep[order] = keep_sorted
    return keep


def slice_mask(items: np.ndarray, is_tail: np.ndarray, which: str) -> np.ndarray:
    """Interactions whose item is head (``which="head"``) or tail (``"tail"``)."""
    tail = is_tail[items]
    return ~tail if which == "head" else tail
