"""One validator per array group of a bundle, used by the writer (before writing) and the reader
(after loading): items (``items.npz``), the user history CSR and the feature tables
(``user_features.npz`` / ``item_features.npz``). Each raises ValueError with the reason only; the
caller names the bundle and the file."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from models.feature_table import FeatureTable


def check_items(arrays: Mapping[str, np.ndarray], n_items: int, index_dim: int) -> None:
    """``embeddings`` float32 [n_items, index_dim] (finite), ``train_counts`` int64 [n_items]
    (>= 0), ``is_tail`` bool [n_items]."""
    emb, counts, tail = arrays["embeddings"], arrays["train_counts"], arrays["is_tail"]
    if emb.dtype != np.float32 or emb.shape != (n_items, index_dim):
        raise ValueError(f"embeddings must be float32 [{n_items}, {index_dim}], got "
                         f"{emb.dtype}{list(emb.shape)}")
    if counts.dtype != np.int64 or counts.shape != (n_items,):
        raise ValueError(f"train_counts must be int64 [{n_items}], got {counts.dtype}"
                         f"{list(counts.shape)}")
    if tail.dtype != np.bool_ or tail.shape != (n_items,):
        raise ValueError(f"is_tail must be bool [{n_items}], got {tail.dtype}{list(tail.shape)}")
    if not np.isfinite(emb).all():
        raise ValueError("embeddings contain NaN or inf")
    if (counts < 0).any():
        raise ValueError("train_counts must be >= 0")


def check_history(indptr: np.ndarray, items: np.ndarray, n_users: int, n_items: int) -> None:
    """A CSR (``indptr`` int64 [n_users + 1], ``items`` int64 [nnz]) of item indices per user."""
    ok = (
        indptr.dtype == np.int64
        and items.dtype == np.int64
        and indptr.shape == (n_users + 1,)
        and indptr[0] == 0
        and indptr[-1] == len(items)
        and not np.any(np.diff(indptr) < 0)
    )
    if not ok:
        raise ValueError(f"history_indptr / history_items are not a CSR over {n_users} users")
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise ValueError("history_items has item indices outside the catalogue")


def table_arrays(table: FeatureTable) -> dict[str, np.ndarray]:
    """A feature table as npz arrays: per field i ``values_i`` / ``offsets_i`` (int64)."""
    out: dict[str, np.ndarray] = {}
    for i, f in enumerate(table.fields):
        out[f"values_{i}"] = f.values.astype(np.int64, copy=False)
        out[f"offsets_{i}"] = f.offsets.astype(np.int64, copy=False)
    return out


def check_table(table: FeatureTable, n_ids: int, what: str) -> None:
    """The table has one row per id (``what``: "user" / "item")."""
    if table.n_rows != n_ids:
        raise ValueError(f"{n_ids} {what}_ids for {table.n_rows} rows")
