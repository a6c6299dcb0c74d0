"""Known users' precomputed answers: exact top-k with the history excluded, served only where
they equal what the exact index returns, and every other request still searches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from service.index import ItemIndex
from service.known_answers import compute_known_answers
from service.registry import Registry, build_registry
from service.serving_bundle import load_serving_bundle
from service.settings import IndexOptions, settings_from_dict
from service.variant import Variant


def _brute_force(q: np.ndarray, x: np.ndarray, seen: set[int], k: int) -> list[int]:
    scores = x @ q
    return [int(i) for i in np.argsort(-scores, kind="stable") if int(i) not in seen][:k]


def test_answers_are_the_exact_top_k_without_each_users_history() -> None:
    rng = np.random.default_rng(0)
    n_users, n_items, d = 2500, 40, 6  # more users than one block of the product
    q = rng.standard_normal((n_users, d)).astype(np.float32)
    x = rng.standard_normal((n_items, d)).astype(np.float32)
    lengths = rng.integers(0, 8, n_users)
    lengths[7] = n_items - 3  # only 3 rankable items: padded past them
    indptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    hist = np.concatenate([rng.choice(n_items, n, replace=False) for n in lengths]).astype(np.int64)
    ans = compute_known_answers(q, x, (indptr, hist), depth=10, lambda_p=0.5)
    assert ans.depth == 10 and ans.lambda_p == 0.5
    for u in (0, 7, 1023, 1024, 2499, *rng.integers(0, n_users, 20).tolist()):
        seen = set(hist[indptr[u] : indptr[u + 1]].tolist())
        rows, scores = ans.top(u, 10)
        assert rows.tolist() == _brute_force(q[u], x, seen, 10)
        np.testing.assert_allclose(scores, x[rows] @ q[u], rtol=1e-5, atol=1e-6)

    def top(u: int, k: int, exclude: list[int] | None = None) -> list[int] | None:
        found = ans.top(u, k, None if exclude is None else np.asarray(exclude, dtype=np.int64))
        return None if found is None else found[0].tolist()

    assert top(7, 10) == _brute_force(q[7], x, set(hist[indptr[7] : indptr[8]].tolist()), 10)
    assert len(top(7, 10) or []) == 3
    assert top(3, 4) == (top(3, 10) or [])[:4]
    # Extra exclusions: exact while k remain among the depth; else only a search can answer,
    # unless the list already holds every rankable item (user 7: what is left is the answer).
    full = top(3, 10) or []
    seen3 = set(hist[indptr[3] : indptr[4]].tolist())
    assert top(3, 5, [full[0], full[2]]) == _brute_force(q[3], x, seen3 | {full[0], full[2]}, 5)
    assert top(3, 5, full[:6]) is None
    assert top(7, 10, [(top(7, 10) or [])[0]]) == (top(7, 10) or [])[1:]
    # No history: every item rankable; depth is capped at the catalogue.
    whole = compute_known_answers(q, x, None, depth=100, lambda_p=None)
    assert whole.depth == n_items
    assert whole.top(5, n_items)[0].tolist() == _brute_force(q[5], x, set(), n_items)


def _counting_searches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    real = ItemIndex.search

    def search(self: ItemIndex, query: np.ndarray, k: int, exclude: np.ndarray | None = None):  # type: ignore[no-untyped-def]
        calls.append(k)
        return real(self, query, k, exclude)

    monkeypatch.setattr(ItemIndex, "search", search)
    return calls


def test_a_known_user_is_served_from_the_answers_and_the_rest_searches(
    mirec_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sb = load_serving_bundle(mirec_bundle, IndexOptions(), precompute_users_max=10_000)
    answers = sb.known_answers(0.5, depth=20)
    assert answers is not None
    fast = Variant("v", sb, lambda_p=0.5, answers=answers)
    searched = Variant("v", sb, lambda_p=0.5)
    calls = _counting_searches(monkeypatch)
    for user in ("u0", "u3", "u17"):
        a, b = fast.recommend(user, 20), searched.recommend(user, 20)
        assert a.item_ids == b.item_ids and a.rows == b.rows and a.tail == b.tail
        np.testing.assert_allclose(a.scores, b.scores, rtol=1e-5, atol=1e-6)
    assert len(calls) == 3  # the three searched ones only
    top = fast.recommend("u3", 20).item_ids
    # The request's exclusions come off the answers (no search) while k of them are left.
    assert fast.recommend("u3", 10, exclude=[top[0], "not-an-item"]).item_ids == top[1:11]
    assert fast.recommend("u3", 10, history=[top[1]]).item_ids == (top[0], *top[2:11])
    assert len(calls) == 3
    # Every case the answers do not cover searches, and gets what the search gives.
    for rec, expected in (
        (
            fast.recommend("u3", 10, exclude=list(top[:15])),
            searched.recommend("u3", 10, exclude=list(top[:15])),
        ),
        (fast.recommend("u3", 21), searched.recommend("u3", 21)),  # k beyond the depth
    ):
        assert rec.item_ids == expected.item_ids
    assert fast.recommend("u3", 10, lambda_p=0.2).lambda_p == 0.2  # another λ_p
    fast.recommend("someone-new", 10)  # cold start
    assert len(calls) == 3 + 6
    assert len(fast.recommend("u3", 20, lambda_p=0.5).item_ids) == 20  # the same λ_p: answered
    assert len(calls) == 9


def test_answers_only_for_an_exact_index_within_the_cell_budget(mirec_bundle: Path) -> None:
    hnsw = load_serving_bundle(
        mirec_bundle, IndexOptions(kind="hnsw", recall_queries=0), precompute_users_max=10_000
    )
    assert hnsw.known_answers(0.5, 10) is None  # not what the approximate index would serve
    no_queries = load_serving_bundle(mirec_bundle, IndexOptions(), precompute_users_max=0)
    assert no_queries.known_answers(0.5, 10) is None

    def registry(max_cells: int) -> Registry:
        settings = settings_from_dict(
            {
                "variants": {
                    "a": {"bundle": str(mirec_bundle), "answers_max_cells": max_cells},
                    "b": {"bundle": str(mirec_bundle), "answers_max_cells": max_cells},
                },
                "buckets": {"control": {"variant": "a", "weight": 1}},
            }
        )
        return build_registry(settings, {n: mirec_bundle for n in ("a", "b")})

    on = registry(10**9)
    a, b = on.variants["a"].answers, on.variants["b"].answers
    assert a is not None and a is b  # one bundle at one λ_p: one table
    assert a.depth == min(100, on.variants["a"].serving.n_items)
    assert on.describe()["a"]["known_answers_depth"] == a.depth
    off = registry(0)
    assert off.variants["a"].answers is None
    assert off.describe()["a"]["known_answers_depth"] is None
