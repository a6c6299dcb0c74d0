"""The in-memory dataset every loader returns."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from models.feature_table import FeatureTable


@dataclass(frozen=True)
class Dataset:
    """Interactions plus categorical user and item features.

    Users and items are re-indexed densely: ``user_ids[u]`` / ``item_ids[i]`` give the original
    ids (as strings; e.g. Book-Crossing ISBNs keep their leading zeros). The catalogue is the set
    of items that appear in the interactions. Interaction arrays are aligned and in the file's
    order (the temporal split breaks timestamp ties by that order).

    ``item_features`` has one row per item index, ``user_features`` one row per user index; each
    includes the id itself as a field (``item_id`` / ``user_id``), so the towers treat ids as
    features like the others.
    """

    name: str
    user_ids: tuple[str, ...]
    item_ids: tuple[str, ...]
    users: np.ndarray  # int64 [n_interactions]
    items: np.ndarray  # int64 [n_interactions]
    timestamps: np.ndarray | None  # int64 [n_interactions] or None when the source has none
    item_features: FeatureTable
    user_features: FeatureTable
    # What the loader merged or dropped (the csv loader; 0 elsewhere), reported by `stats`.
    duplicates_collapsed: int = 0  # rows merged into an earlier row of the same user-item pair
    below_threshold: int = 0  # rows dropped by a weight threshold
    weights: np.ndarray | None = None  # float64 [n_interactions] (summed weights), or None

    def __post_init__(self) -> None:
        n = len(self.users)
        if (
            len(self.items) != n
            or (self.timestamps is not None and len(self.timestamps) != n)
            or (self.weights is not None and len(self.weights) != n)
        ):
            raise ValueError(f"{self.name}: interaction arrays differ in length")
        if self.item_features.n_rows != len(self.item_ids):
            raise ValueError(
                f"{self.name}: item features have {self.item_features.n_rows} rows, "
                f"catalogue has {len(self.item_ids)} items"
            )
        if self.user_features.n_rows != len(self.user_ids):
            raise ValueError(
                f"{self.name}: user features have {self.user_features.n_rows} rows, "
                f"there are {len(self.user_ids)} users"
            )

    @property
    def n_users(self) -> int:
        return len(self.user_ids)

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    @property
    def n_interactions(self) -> int:
        return len(self.users)

    @property
    def has_timestamps(self) -> bool:
        return self.timestamps is not None
