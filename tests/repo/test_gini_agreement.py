"""Offline (training/evaluation/exposure.py) and online (service/exposure/summary.py) Gini are two
implementations of one formula: they must agree on the same counts. This test may import both
packages; the packages themselves never import each other."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.exposure.summary import gini as online_gini
from training.evaluation.exposure import gini as offline_gini


def _online(counts: np.ndarray) -> float | None:
    # The service keeps only the nonzero counts, ascending, plus the catalogue size.
    nonzero = np.sort(counts[counts > 0]).astype(np.float64)
    return online_gini(nonzero, len(counts))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ([5, 5, 5, 5], 0.0),  # perfectly even
        ([0, 0, 0, 12], 0.75),  # all on one of 4 items: (n - 1) / n
        ([1, 2, 3, 4], 0.25),  # sum_i (2i - n - 1) x_i / (n * total) = (-3-2+3+12) / 40
        ([0, 3, 0, 1, 0], 0.7),  # sorted 0,0,0,1,3: (2*1 + 4*3) / (5 * 4) = 14 / 20
    ],
)
def test_both_give_the_hand_computed_value(counts: list[int], expected: float) -> None:
    x = np.array(counts, dtype=np.int64)
    assert offline_gini(x) == pytest.approx(expected)
    assert _online(x) == pytest.approx(expected)


@given(st.lists(st.integers(min_value=0, max_value=10_000), min_size=1, max_size=300))
def test_they_agree_on_any_counts(counts: list[int]) -> None:
    x = np.array(counts, dtype=np.int64)
    online = _online(x)
    if x.sum() == 0:
        # The one documented difference: nothing exposed is 0.0 offline (a metric in a results
        # table) and None online (the dashboard shows "no data").
        assert online is None and offline_gini(x) == 0.0
    else:
        assert online == pytest.approx(offline_gini(x), abs=1e-12)
