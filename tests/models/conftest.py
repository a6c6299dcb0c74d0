"""Tiny hand-made feature tables shared by the models tests."""

from __future__ import annotations

import pytest
import torch

from models.feature_table import CategoricalField, FeatureTable

# Tests run on cores shared with other jobs: one intra-op thread is plenty for these sizes.
torch.set_num_threads(1)


@pytest.fixture
def item_table() -> FeatureTable:
    """5 items: id (single), genres (multi, item 3 has none), year (single)."""
    return FeatureTable(
        (
            CategoricalField.from_single("item_id", ["i0", "i1", "i2", "i3", "i4"]),
            CategoricalField.from_multi(
                "genres",
                [["drama", "comedy"], ["drama"], ["action", "comedy", "drama"], [], ["action"]],
            ),
            CategoricalField.from_single("year", ["1990", "2000", "1990", None, "2010"]),
        )
    )


@pytest.fixture
def user_table() -> FeatureTable:
    """4 users: id, gender, age (all single-valued)."""
    return FeatureTable(
        (
            CategoricalField.from_single("user_id", ["u0", "u1", "u2", "u3"]),
            CategoricalField.from_single("gender", ["F", "M", "M", "F"]),
            CategoricalField.from_single("age", ["18", "25", "35", "25"]),
        )
    )
