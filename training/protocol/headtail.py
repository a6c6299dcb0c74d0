"""Head / tail assignment of catalogue items by training popularity (docs/protocol.md).

- ``n_head = max(1, floor(head_fraction * n_items + 0.5))`` (round half up) items are nominally
  head: the most popular by training interaction count.
- ``k`` is the training count of the least popular of those ``n_head`` items, and **every** item
  with count >= k is head: ties at the boundary go to head, so the head can be a little larger
  than the fraction.
- When fewer than ``n_head`` items have any training interaction, that count would be 0; ``k`` is
  then 1, so items with zero training interactions are always tail (and the head is smaller than
  the fraction).

``k`` is also MIRec's threshold: I_h(k) = items with at least k interactions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from training.protocol import DEFAULT_HEAD_FRACTION


@dataclass(frozen=True)
class HeadTail:
    """``train_counts`` int64 ``[n_items]``; ``is_tail`` bool ``[n_items]``; threshold ``k``."""

    train_counts: np.ndarray
    is_tail: np.ndarray
    k: int
    head_fraction: float

    @property
    def n_items(self) -> int:
        return len(self.train_counts)

    @property
    def n_head(self) -> int:
        return int(self.n_items - self.is_tail.sum())

    @property
    def n_tail(self) -> int:
        return int(self.is_tail.sum())


def head_tail(
    train_items: np.ndarray, n_items: int, head_fraction: float = DEFAULT_HEAD_FRACTION
) -> HeadTail:
    """Count training interactions per item and split the catalogue into head and tail."""
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items}")
    if not 0.0 < head_fraction <= 1.0:
        raise ValueError(f"head_fraction must be in (0, 1], got {head_fraction}")
    items = np.asarray(train_items)
    if items.ndim != 1 or (len(items) and not np.issubdtype(items.dtype, np.integer)):
        raise ValueError("train_items must be a 1-d integer array")
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise ValueError(f"train_items: item index outside [0, {n_items})")
    counts = np.bincount(items.astype(np.int64), minlength=n_items).astype(np.int64)
    n_head = max(1, int(np.floor(head_fraction * n_items + 0.5)))
    # The n_head-th largest count (np.partition: O(n) selection, no full sort).
    kth = int(np.partition(counts, n_items - n_head)[n_items - n_head])
    k = max(1, kth)
    return HeadTail(
        train_counts=counts, is_tail=counts < k, k=k, head_fraction=float(head_fraction)
    )
