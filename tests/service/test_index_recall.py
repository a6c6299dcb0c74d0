from __future__ import annotations

import numpy as np
import pytest

from service.index import build_index
from service.recall import recall_against_exact
from service.settings import IndexOptions


def test_recall_is_split_by_the_slice_of_the_true_neighbours() -> None:
    is_tail = np.array([False, False, True, True, True])
    exact = np.array([[0, 2, 3], [1, 4, 2]])
    approx = np.array([[0, 2, 1], [1, 0, -1]])  # lost tail items 3, 4 and 2
    all_, head, tail, head_truth, tail_truth = recall_against_exact(exact, approx, is_tail)
    assert (head_truth, tail_truth) == (2, 4)
    assert head == 1.0 and tail == pytest.approx(1 / 4) and all_ == pytest.approx(3 / 6)
    assert recall_against_exact(exact[:, :1], approx[:, :1], is_tail)[2] is None  # no tail truth


def test_flat_search_is_exact_and_skips_excluded_items() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((500, 12)).astype(np.float32)
    q = rng.standard_normal(12).astype(np.float32)
    index = build_index(x, IndexOptions())
    order = np.argsort(-(x @ q), kind="stable")
    r = index.search(q, 10)
    assert list(r.ids) == list(order[:10])
    np.testing.assert_allclose(r.scores, (x @ q)[order[:10]], rtol=1e-5)
    r = index.search(q, 10, exclude=order[:25])
    assert list(r.ids) == list(order[25:35])
    np.testing.assert_allclose(r.scores, (x @ q)[order[25:35]], rtol=1e-5)
    r = index.search(q, 10, exclude=order[3:])  # only 3 items left: 3 answers, no -1 padding
    assert list(r.ids) == list(order[:3])


# Every approximate index the settings can build (IVF: its coarse quantizer and its codec).
APPROXIMATE = {
    "hnsw": {"kind": "hnsw"},
    "ivf": {"kind": "ivf"},
    "ivf-hnsw-quantizer": {"kind": "ivf", "ivf_quantizer": "hnsw"},
    "ivf-sq8-rerank": {"kind": "ivf", "ivf_codec": "sq8"},
}


@pytest.mark.parametrize("kind", APPROXIMATE)
def test_approximate_exclusion_returns_k_whenever_the_catalogue_allows(kind: str) -> None:
    # Nearly everything near the query is excluded: a selector-filtered graph search can run out
    # of candidates, and must then fall back to over-fetching rather than answer short.
    rng = np.random.default_rng(2)
    x = rng.standard_normal((600, 8)).astype(np.float32)
    q = rng.standard_normal(8).astype(np.float32)
    order = np.argsort(-(x @ q), kind="stable")
    index = build_index(
        x,
        IndexOptions(**APPROXIMATE[kind], hnsw_m=4, hnsw_ef_search=8, ivf_nlist=4, ivf_nprobe=4),
    )
    for excluded in (order[:20], order[:590], rng.permutation(600)[:500]):
        r = index.search(q, 10, exclude=excluded)
        assert len(r.ids) == 10 and not set(r.ids) & set(excluded.tolist())
        np.testing.assert_allclose(r.scores, (x @ q)[r.ids], rtol=1e-4, atol=1e-4)
    r = index.search(q, 10, exclude=order[:590])
    assert set(r.ids) == set(order[590:])  # the only 10 allowed items


def test_bad_embeddings_are_refused() -> None:
    with pytest.raises(ValueError, match="NaN"):
        build_index(np.array([[np.nan, 1.0]], dtype=np.float32), IndexOptions())
    with pytest.raises(ValueError, match="non-empty"):
        build_index(np.zeros((0, 4), dtype=np.float32), IndexOptions())


@pytest.mark.parametrize("kind", APPROXIMATE)
def test_approximate_indexes_return_inner_product_scores(kind: str) -> None:
    """They search L2 over MIPS-augmented vectors, but scores must still be ⟨q, x⟩."""
    rng = np.random.default_rng(1)
    x = (rng.standard_normal((400, 8)) * rng.uniform(0.2, 3.0, (400, 1))).astype(np.float32)
    q = rng.standard_normal(8).astype(np.float32)
    index = build_index(x, IndexOptions(**APPROXIMATE[kind], ivf_nlist=4, ivf_nprobe=4))
    assert index.kind == APPROXIMATE[kind]["kind"]
    r = index.search(q, 20)
    np.testing.assert_allclose(r.scores, (x @ q)[r.ids], rtol=1e-4, atol=1e-4)
    exact = np.argsort(-(x @ q))[:20]
    assert len(set(r.ids) & set(exact)) >= 19  # a small catalogue: (nearly) exhaustive search


def test_exclusion_membership_matches_isin_with_duplicates_and_misses() -> None:
    from service.index import is_member

    rng = np.random.default_rng(3)
    for _ in range(200):
        ids = rng.integers(-1, 60, rng.integers(1, 80))
        excluded = rng.integers(0, 60, rng.integers(1, 70))  # unsorted, with repeats
        np.testing.assert_array_equal(is_member(ids, excluded), np.isin(ids, excluded))


@pytest.mark.parametrize("n", [500, 70_000])  # below and above the sparse-exclusion threshold
def test_exclusion_leaves_the_bitmap_as_it_found_it(n: int) -> None:
    from service.index import _SPARSE_EXCLUSION_ITEMS

    assert (n < _SPARSE_EXCLUSION_ITEMS) == (n == 500)
    rng = np.random.default_rng(4)
    x = rng.standard_normal((n, 4)).astype(np.float32)
    q = rng.standard_normal(4).astype(np.float32)
    order = np.argsort(-(x @ q), kind="stable")
    index = build_index(x, IndexOptions(kind="flat"))
    # Neighbours in one byte of the bitmap (8 consecutive indices) and a repeat.
    excluded = np.concatenate([order[:5], [order[0]], np.arange(16, 24)])
    r = index.search(q, 10, exclude=excluded)
    allowed = [i for i in order if i not in set(excluded.tolist())]
    assert list(r.ids) == allowed[:10]
    assert list(index.search(q, 10).ids) == list(order[:10])  # every bit set again
    r = index.search(q, 10, exclude=order[5:7])
    assert list(r.ids) == [*order[:5], *order[7:12]]


def test_auto_index_is_exact_up_to_its_threshold_then_hnsw_with_the_tail_apart() -> None:
    opts = IndexOptions(auto_flat_max_items=100)
    assert opts.kind == "auto"
    assert opts.resolved(100).kind == "flat"
    assert (opts.resolved(101).kind, opts.resolved(101).tail_index) == ("hnsw", "apart")
    x = np.random.default_rng(5).standard_normal((150, 4)).astype(np.float32)
    assert build_index(x, opts).kind == "hnsw"
    assert build_index(x[:100], opts).kind == "flat"
    # An explicit kind is kept, with its own tail_index.
    explicit = IndexOptions(kind="ivf").resolved(10**7)
    assert (explicit.kind, explicit.tail_index) == ("ivf", "shared")


@pytest.mark.parametrize("kind", ["flat", *APPROXIMATE])
def test_admitting_search_returns_only_admitted_items_and_restores_the_bitmap(kind: str) -> None:
    rng = np.random.default_rng(5)
    x = rng.standard_normal((300, 6)).astype(np.float32)
    q = rng.standard_normal((3, 6)).astype(np.float32)
    options = {"kind": "flat"} if kind == "flat" else APPROXIMATE[kind]
    index = build_index(x, IndexOptions(**options, ivf_nlist=2, ivf_nprobe=2))
    admit = rng.random(300) < 0.1  # a selective filter, like the tail of a catalogue
    scores, ids = index.search_batch_admitting(q, 5, admit)
    assert ids.shape == (3, 5) and admit[ids].all()
    np.testing.assert_allclose(
        scores, np.take_along_axis(q @ x.T, ids, axis=1), rtol=1e-4, atol=1e-4
    )
    if kind == "flat":
        truth = np.argsort(-np.where(admit, q @ x.T, -np.inf), axis=1, kind="stable")[:, :5]
        np.testing.assert_array_equal(ids, truth)
    full = index.search_batch(q, 5)[1]
    assert not admit[full].all()  # unrestricted again: the bitmap was set back
    with pytest.raises(ValueError, match="admit"):
        index.search_batch_admitting(q, 5, admit[:10])
