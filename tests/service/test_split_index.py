"""Tail items indexed apart (service/split_index.py): the merge over two parts returns what one
index over every item would, and a filter to tail items searches the tail part alone."""

from __future__ import annotations

import numpy as np
import pytest

from service.index import ItemIndex, build_index
from service.settings import IndexOptions
from service.split_index import SplitIndex, build_item_index

N, DIM = 400, 8


def _data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    x = rng.standard_normal((N, DIM)).astype(np.float32)
    is_tail = rng.random(N) < 0.2
    q = rng.standard_normal((5, DIM)).astype(np.float32)
    return x, is_tail, q


def _exact_split(x: np.ndarray, is_tail: np.ndarray) -> SplitIndex:
    """Both parts exact: the split must then equal one exact index over all items."""
    rows = [np.flatnonzero(~is_tail), np.flatnonzero(is_tail)]
    flat = IndexOptions(kind="flat")
    return SplitIndex([build_index(x[r], flat) for r in rows], rows, flat)


def test_merged_batch_search_equals_one_exact_index() -> None:
    x, is_tail, q = _data()
    whole = build_index(x, IndexOptions(kind="flat"))
    split = _exact_split(x, is_tail)
    for k in (1, 10, 50):
        s_whole, i_whole = whole.search_batch(q, k)
        s_split, i_split = split.search_batch(q, k)
        np.testing.assert_array_equal(i_split, i_whole)
        np.testing.assert_allclose(s_split, s_whole, rtol=1e-5)


def test_single_search_maps_exclusions_into_each_part() -> None:
    x, is_tail, q = _data()
    split = _exact_split(x, is_tail)
    order = np.argsort(-(x @ q[0]), kind="stable")
    exclude = order[:30]  # head and tail items among them
    assert is_tail[exclude].any() and (~is_tail[exclude]).any()
    r = split.search(q[0], 10, exclude)
    assert list(r.ids) == list(order[30:40])
    np.testing.assert_allclose(r.scores, (x @ q[0])[order[30:40]], rtol=1e-5)
    r = split.search(q[0], 10, order[5:])  # 5 items left in all
    assert list(r.ids) == list(order[:5])


def test_admitting_only_tail_items_searches_the_tail_part_alone() -> None:
    x, is_tail, q = _data()
    split = build_item_index(
        x, IndexOptions(kind="hnsw", tail_index="apart", hnsw_m=4, hnsw_ef_search=4), is_tail
    )
    assert isinstance(split, SplitIndex) and split.describe() == "hnsw head + flat tail"
    tail_rows = np.flatnonzero(is_tail)
    _, ids = split.search_batch_admitting(q, 10, is_tail)
    exact = tail_rows[np.argsort(-(x[tail_rows] @ q.T), axis=0, kind="stable")[:10].T]
    np.testing.assert_array_equal(ids, exact)  # the tail part is exact: recall 1
    _, ids = split.search_batch_admitting(q, 10, np.zeros(N, dtype=bool))
    assert (ids == -1).all()
    with pytest.raises(ValueError, match="admit"):
        split.search_batch_admitting(q, 10, is_tail[:-1])


def test_build_splits_only_approximate_kinds_with_both_parts() -> None:
    x, is_tail, _ = _data()
    apart = {"tail_index": "apart", "hnsw_m": 4}
    assert isinstance(build_item_index(x, IndexOptions(kind="hnsw"), is_tail), ItemIndex)
    assert isinstance(build_item_index(x, IndexOptions(kind="flat", **apart), is_tail), ItemIndex)
    none = np.zeros(N, dtype=bool)
    assert isinstance(build_item_index(x, IndexOptions(kind="hnsw", **apart), none), ItemIndex)
    # auto resolves by the whole catalogue's size, above the bound to HNSW with the tail apart
    # (no tail_index set); the tail part is exact up to the same bound, else HNSW too.
    auto = IndexOptions(kind="auto", auto_flat_max_items=100, hnsw_m=4)
    small_tail = build_item_index(x, auto, is_tail)
    assert isinstance(small_tail, SplitIndex)
    assert [p.kind for p in small_tail.parts] == ["hnsw", "flat"]
    big_tail = build_item_index(x, auto, ~is_tail)
    assert isinstance(big_tail, SplitIndex)
    assert [p.kind for p in big_tail.parts] == ["hnsw", "hnsw"]
    assert isinstance(build_item_index(x[:100], auto, is_tail[:100]), ItemIndex)  # flat
    with pytest.raises(ValueError, match="is_tail"):
        build_item_index(x, IndexOptions(kind="hnsw", **apart), is_tail[:-1])


def test_new_search_parameters_reach_the_approximate_part() -> None:
    x, is_tail, _ = _data()
    split = build_item_index(x, IndexOptions(kind="hnsw", tail_index="apart"), is_tail)
    assert isinstance(split, SplitIndex)
    split.options = split.options.model_copy(update={"hnsw_ef_search": 7})
    head, tail = split.parts
    assert head.options.hnsw_ef_search == 7 and head.kind == "hnsw" and tail.kind == "flat"
