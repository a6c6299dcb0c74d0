from __future__ import annotations

import numpy as np
import pytest

from service.exposure.summary import gini, item_summary, lorenz


def _gini_reference(counts: np.ndarray) -> float:
    """Mean absolute difference over all pairs / (2 · mean): the textbook definition."""
    x = counts.astype(float)
    return float(np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean()))


def test_gini_counts_unshown_catalogue_items_as_zero() -> None:
    rng = np.random.default_rng(0)
    full = np.zeros(50, dtype=np.int64)
    full[rng.choice(50, 20, replace=False)] = rng.integers(1, 100, 20)
    nonzero = np.sort(full[full > 0])
    assert gini(nonzero, 50) == pytest.approx(_gini_reference(full))


def test_gini_extremes() -> None:
    assert gini(np.full(10, 7), 10) == pytest.approx(0.0)
    assert gini(np.array([100]), 10) == pytest.approx(0.9)  # (n - 1) / n
    assert gini(np.zeros(0, np.int64), 10) is None


def test_lorenz_endpoints_and_shape() -> None:
    points = lorenz(np.array([1, 1, 2, 4]), 8, 5)  # 4 unshown items of 8
    assert points[0] == [0.0, 0.0] and points[-1] == [1.0, 1.0]
    assert points[2] == [0.5, 0.0]  # the least exposed half got nothing
    ys = [y for _, y in points]
    assert ys == sorted(ys)


def test_item_summary_ignores_items_outside_the_catalogue() -> None:
    distinct, cov, g, _ = item_summary({"a": 3, "b": 1, "gone": 9}, frozenset("abcd"), 4, 3)
    assert distinct == 2 and cov == pytest.approx(0.5)
    assert g == pytest.approx(_gini_reference(np.array([3, 1, 0, 0])))
