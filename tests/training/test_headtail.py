"""Head / tail assignment: boundary ties go to head, zero-count items are tail, threshold k."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from training.protocol.headtail import head_tail


def items_with_counts(counts: list[int]) -> np.ndarray:
    return np.repeat(np.arange(len(counts), dtype=np.int64), counts)


def test_boundary_ties_go_to_head() -> None:
    # 10 items, 20% -> n_head = 2; counts sorted: 5, 3, 3, 3, 1, 0... -> k = 3; the three items
    # tied at 3 are all head, so the head has 4 items.
    counts = [3, 0, 5, 3, 1, 0, 3, 0, 0, 0]
    ht = head_tail(items_with_counts(counts), n_items=10)
    assert ht.k == 3
    assert ht.train_counts.tolist() == counts
    assert ht.train_counts.dtype == np.int64
    assert ht.is_tail.dtype == np.bool_
    assert np.flatnonzero(~ht.is_tail).tolist() == [0, 2, 3, 6]
    assert (ht.n_head, ht.n_tail) == (4, 6)
    assert ht.head_fraction == 0.2


def test_zero_count_items_always_tail() -> None:
    # 50% of 6 items = 3 head slots, but only 1 item has interactions: k would be 0 -> k = 1.
    ht = head_tail(items_with_counts([0, 0, 4, 0, 0, 0]), n_items=6, head_fraction=0.5)
    assert ht.k == 1
    assert np.flatnonzero(~ht.is_tail).tolist() == [2]
    empty = head_tail(np.zeros(0, dtype=np.int64), n_items=3)
    assert empty.k == 1 and empty.is_tail.all()


def test_n_head_rounds_half_up_and_is_at_least_one() -> None:
    # 5 items, 0.5 -> 2.5 -> 3 head slots: k = the 3rd largest count = 8
    ht = head_tail(items_with_counts([10, 9, 8, 7, 6]), n_items=5, head_fraction=0.5)
    assert ht.k == 8 and ht.n_head == 3
    # 4 items, 0.1 -> 0.4 -> max(1, 0) = 1 head slot
    ht = head_tail(items_with_counts([2, 4, 1, 3]), n_items=4, head_fraction=0.1)
    assert ht.k == 4 and np.flatnonzero(~ht.is_tail).tolist() == [1]


def test_catalogue_larger_than_training_items() -> None:
    # Items only in valid/test (indices 3, 4) are in the catalogue with zero count.
    ht = head_tail(np.asarray([0, 0, 1, 2, 2, 2]), n_items=5, head_fraction=0.2)
    assert ht.train_counts.tolist() == [2, 1, 3, 0, 0]
    assert ht.k == 3 and ht.is_tail.tolist() == [True, True, False, True, True]


def test_bad_inputs() -> None:
    with pytest.raises(ValueError, match="head_fraction"):
        head_tail(np.asarray([0]), n_items=1, head_fraction=0.0)
    with pytest.raises(ValueError, match="train_items"):
        head_tail(np.asarray([0, 3]), n_items=3)
    with pytest.raises(ValueError, match="n_items"):
        head_tail(np.zeros(0, np.int64), n_items=0)


@settings(max_examples=60, deadline=None)
@given(
    counts=st.lists(st.integers(0, 6), min_size=1, max_size=30),
    frac=st.floats(0.01, 1.0),
)
def test_head_is_a_popularity_prefix(counts: list[int], frac: float) -> None:
    ht = head_tail(items_with_counts(counts), n_items=len(counts), head_fraction=frac)
    c = np.asarray(counts)
    head, tail = c[~ht.is_tail], c[ht.is_tail]
    n_head = max(1, int(np.floor(frac * len(counts) + 0.5)))
    assert ht.k >= 1
    assert np.all(head >= ht.k) and np.all(tail < ht.k)
    assert np.all(tail[tail == 0] == 0)  # zero-count items can only be tail
    assert not np.any(~ht.is_tail & (c == 0))
    if head.size and tail.size:
        assert head.min() > tail.max()
    # Head has at least n_head items unless fewer items have any interaction.
    assert len(head) >= min(n_head, int(np.count_nonzero(c)))
