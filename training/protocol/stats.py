"""Dataset statistics for ``python -m training stats``."""

from __future__ import annotations

from typing import Any

import numpy as np

from training.config import DataConfig
from training.protocol.prepared import prepare


def dataset_stats(cfg: DataConfig) -> dict[str, Any]:
    p = prepare(cfg)
    ds, ht = p.dataset, p.headtail
    counts = np.bincount(ds.items, minlength=ds.n_items)
    return {
        "dataset": ds.name,
        "users": ds.n_users,
        "items": ds.n_items,
        "interactions": ds.n_interactions,
        "duplicates_collapsed": ds.duplicates_collapsed,
        "below_threshold": ds.below_threshold,
        "has_timestamps": ds.has_timestamps,
        "train_interactions": int(len(p.split.train_items)),
        "valid_users": int(len(p.split.valid_users)),
        "test_users": int(len(p.split.test_users)),
        "head_items": ht.n_head,
        "tail_items": ht.n_tail,
        "k": int(ht.k),
        "head_fraction": ht.head_fraction,
        "head_share_of_interactions": float(counts[~ht.is_tail].sum() / max(1, counts.sum())),
        "item_features": list(ds.item_features.names),
        "user_features": list(ds.user_features.names),
        "fingerprint": p.fingerprint,
    }
