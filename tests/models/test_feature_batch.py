from __future__ import annotations

import numpy as np
import pytest
import torch

from models.feature_batch import TensorTable, batch_from_table
from models.feature_table import FeatureTable


def _naive_rows(table: FeatureTable, name: str, rows: list[int]) -> list[list[int]]:
    f = table[name]
    return [f.values[f.offsets[r] : f.offsets[r + 1]].tolist() for r in rows]


def _batch_rows(values: torch.Tensor, offsets: torch.Tensor) -> list[list[int]]:
    return [values[offsets[b] : offsets[b + 1]].tolist() for b in range(len(offsets) - 1)]


def test_gather_matches_naive_loop(item_table: FeatureTable) -> None:
    tt = TensorTable.from_table(item_table)
    rows = [3, 0, 2, 2, 4, 3]  # unordered, repeated, includes the empty genres row 3
    batch = tt.gather(torch.tensor(rows))
    assert set(batch) == set(item_table.names)
    for name in item_table.names:
        fb = batch[name]
        assert fb.values.dtype == torch.int64 and fb.offsets.dtype == torch.int64
        assert fb.offsets.shape == (len(rows) + 1,)
        assert _batch_rows(fb.values, fb.offsets) == _naive_rows(item_table, name, rows)


def test_gather_random_large_multi_field() -> None:
    from models.feature_table import CategoricalField

    rng = np.random.default_rng(0)
    raw = [[f"t{v}" for v in rng.integers(0, 20, rng.integers(0, 6))] for _ in range(200)]
    table = FeatureTable((CategoricalField.from_multi("tags", raw),))
    rows = rng.integers(0, 200, 500).tolist()
    fb = TensorTable.from_table(table).gather(torch.tensor(rows))["tags"]
    assert _batch_rows(fb.values, fb.offsets) == _naive_rows(table, "tags", rows)


def test_gather_empty_and_bad_rows(item_table: FeatureTable) -> None:
    tt = TensorTable.from_table(item_table)
    empty = tt.gather(torch.zeros(0, dtype=torch.int64))
    assert empty["genres"].offsets.tolist() == [0] and empty["genres"].values.numel() == 0
    with pytest.raises(IndexError, match="out of range"):
        tt.gather(torch.tensor([0, 5]))


def test_batch_from_table(item_table: FeatureTable) -> None:
    batch = batch_from_table(item_table)
    assert batch["genres"].offsets.tolist() == item_table["genres"].offsets.tolist()
    assert batch["genres"].lengths.tolist() == [2, 1, 3, 0, 1]
