"""The binary user × item training matrix the references are fitted on."""

from __future__ import annotations

import numpy as np

from training.protocol.split import Split


def train_matrix(split: Split) -> np.ndarray:
    """float32 ``[n_users, n_items]``: 1 where the user has a training interaction (duplicates
    count once). Dense: ML-1M is 6k × 3.7k (90 MB), which the Gram matrix needs anyway."""
    x = np.zeros((split.n_users, split.n_items), dtype=np.float32)
    x[split.train_users, split.train_items] = 1.0
    return x
