"""Full-ranking evaluator and baseline scorers on hand-built splits with known ranks."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from training.evaluation.baselines import popularity_scorer, random_scorer
from training.evaluation.evaluator import EvalResult, evaluate, rank_targets
from training.protocol.headtail import HeadTail, head_tail
from training.protocol.split import Split

N_ITEMS = 100
RANKS = [1, 3, 12, 60]


def i64(x: list[int]) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def known_rank_split() -> Split:
    """4 users; user u trains on items 10u..10u+4, validates on 10u+5, tests on 90+u."""
    train_u = np.repeat(np.arange(4), 5)
    train_i = (10 * train_u + np.tile(np.arange(5), 4)).astype(np.int64)
    users = i64([0, 1, 2, 3])
    return Split(
        train_u.astype(np.int64),
        train_i,
        users,
        10 * users + 5,
        users.copy(),
        90 + users,
        n_users=4,
        n_items=N_ITEMS,
    )


def excluded(split: Split, u: int, role: str) -> set[int]:
    indptr, idx = split.exclusion_csr(role)  # type: ignore[arg-type]
    return set(idx[indptr[u] : indptr[u + 1]].tolist())


def rank_scorer(split: Split, ranks: list[int]) -> np.ndarray:
    """Scores [n_users, n_items] placing user u's test item at rank ranks[u].

    Excluded items get the highest scores (they must not count); r - 1 rankable items score
    above the target (50), the other rankable items below it.
    """
    table = np.zeros((split.n_users, split.n_items), dtype=np.float32)
    for row, (u, t) in enumerate(zip(split.test_users, split.test_items, strict=True)):
        ex = excluded(split, int(u), "test")
        table[u, list(ex)] = 1000.0
        table[u, t] = 50.0
        others = [i for i in range(split.n_items) if i not in ex and i != t]
        above = others[: ranks[row] - 1]
        table[u, above] = 100.0 + np.arange(len(above), dtype=np.float32)
        table[u, others[ranks[row] - 1 :]] = np.arange(len(others) - ranks[row] + 1) % 40
    return table


def ht_for(split: Split, tail_targets: list[int]) -> HeadTail:
    """A head/tail where exactly the given items are tail."""
    is_tail = np.zeros(split.n_items, dtype=bool)
    is_tail[tail_targets] = True
    counts = np.where(is_tail, 0, 5).astype(np.int64)
    return HeadTail(train_counts=counts, is_tail=is_tail, k=5, head_fraction=0.2)


def test_known_ranks_give_exact_metrics() -> None:
    sp = known_rank_split()
    table = rank_scorer(sp, RANKS)
    ht = ht_for(sp, tail_targets=[92, 93])  # users 0, 1 head; users 2, 3 tail
    res = evaluate(lambda u: table[u], sp, ht, batch_size=3)
    assert res.ranks is not None and res.ranks.tolist() == RANKS
    m = res.metrics["all"]
    assert m["HR@10"] == pytest.approx(0.5)
    assert m["HR@20"] == pytest.approx(0.75)
    assert m["HR@50"] == pytest.approx(0.75)
    assert m["NDCG@10"] == pytest.approx((1 + 0.5) / 4)
    assert m["NDCG@20"] == pytest.approx((1 + 0.5 + 1 / math.log2(13)) / 4)
    assert m["MAP@10"] == pytest.approx((1 + 1 / 3) / 4)
    assert m["MAP@50"] == pytest.approx((1 + 1 / 3 + 1 / 12) / 4)
    assert res.n_users == {"all": 4, "head": 2, "tail": 2}
    assert res.metrics["head"]["HR@10"] == pytest.approx(1.0)
    assert res.metrics["head"]["MAP@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert res.metrics["tail"]["HR@20"] == pytest.approx(0.5)
    assert res.metrics["tail"]["NDCG@50"] == pytest.approx(1 / math.log2(13) / 2)
    d = res.to_dict()
    assert set(d) == {"role", "ks", "n_users", "metrics", "exposure"}
    assert set(d["exposure"]) == {
        f"{n}@{k}" for n in ("coverage", "tail_share", "arp", "gini") for k in (10, 20, 50)
    }
    assert EvalResult.from_dict(d).metrics == res.metrics


def test_excluded_items_never_ranked_nor_recommended() -> None:
    sp = known_rank_split()
    table = rank_scorer(sp, RANKS)
    ranks, topk = rank_targets(lambda u: table[u], sp, "test", k=50)
    for row, u in enumerate(sp.test_users.tolist()):
        assert not excluded(sp, u, "test") & set(topk[row].tolist())
    # Rank 1 means the target heads the list although excluded items scored higher.
    assert topk[0, 0] == 90
    assert ranks.tolist() == RANKS


def test_validation_role_excludes_training_only() -> None:
    sp = known_rank_split()
    # Score = item index: the validation item 10u+5 is beaten by every higher rankable item.
    ranks, _ = rank_targets(
        lambda u: np.tile(np.arange(N_ITEMS, dtype=np.float32), (len(u), 1)), sp, "valid", k=10
    )
    # user u: rankable items above 10u+5 are 10u+6..99 (training items 10u..10u+4 are below)
    assert ranks.tolist() == [N_ITEMS - (10 * u + 5) for u in range(4)]


def test_constant_scorer_gets_worst_rank() -> None:
    sp = known_rank_split()
    ht = ht_for(sp, tail_targets=[])
    res = evaluate(lambda u: np.zeros((len(u), N_ITEMS), np.float32), sp, ht)
    # 100 items - 5 training - 1 validation item = 94 rankable items; the target is last.
    assert res.ranks is not None and res.ranks.tolist() == [94] * 4
    assert res.metrics["all"]["HR@50"] == 0.0 and res.metrics["all"]["NDCG@50"] == 0.0
    assert res.n_users["tail"] == 0 and res.metrics["tail"]["HR@10"] == 0.0
    res = evaluate(lambda u: np.zeros((len(u), N_ITEMS), np.float32), sp, ht, role="valid")
    assert res.ranks is not None and res.ranks.tolist() == [95] * 4


def test_ties_broken_against_the_target() -> None:
    sp = Split(i64([0]), i64([0]), i64([0]), i64([1]), i64([0]), i64([2]), 1, 8)
    # target 2 scores 5; item 3 above; items 4 and 5 tie with it; item 0 (train) would tie too
    scores = np.asarray([[5, 9, 5, 7, 5, 5, 1, 1]], dtype=np.float32)
    ranks, _ = rank_targets(lambda u: scores, sp, "test", k=3)
    assert ranks.tolist() == [4]  # 1 + 1 above + 2 tied


def test_duplicate_target_still_ranked_with_its_score() -> None:
    # The user's test item 3 is also a training item (a duplicate pair): not excluded.
    sp = Split(i64([0, 0]), i64([3, 1]), i64([0]), i64([2]), i64([0]), i64([3]), 1, 6)
    scores = np.asarray([[1, 9, 9, 4, 5, 0]], dtype=np.float32)
    ranks, topk = rank_targets(lambda u: scores, sp, "test", k=2)
    assert ranks.tolist() == [2]  # only item 4 (5) beats it; 1 and 2 are excluded
    assert topk.tolist() == [[4, 3]]


def test_short_lists_are_padded() -> None:
    # 5 items: 3 training + 1 validation excluded -> only the target (4) is rankable.
    sp = Split(i64([0, 0, 0]), i64([0, 1, 2]), i64([0]), i64([3]), i64([0]), i64([4]), 1, 5)
    ranks, topk = rank_targets(lambda u: np.ones((len(u), 5), np.float32), sp, "test", k=7)
    assert ranks.tolist() == [1]
    assert topk.tolist() == [[4, -1, -1, -1, -1, -1, -1]]


def test_torch_scorer_batches_and_inputs_unchanged() -> None:
    sp = known_rank_split()
    table = rank_scorer(sp, RANKS)
    before = table.copy()
    ht = ht_for(sp, tail_targets=[93])
    a = evaluate(lambda u: table[u], sp, ht, batch_size=1)
    b = evaluate(lambda u: torch.from_numpy(table[u].astype(np.float64)), sp, ht, batch_size=64)
    assert a.to_dict() == b.to_dict()
    assert np.array_equal(table, before)  # the scorer's arrays are never written to


def test_nan_and_shape_errors_name_the_problem() -> None:
    sp = known_rank_split()
    ht = ht_for(sp, tail_targets=[])

    def nan_scorer(u: np.ndarray) -> np.ndarray:
        s = np.zeros((len(u), N_ITEMS), np.float32)
        s[u == 2, 7] = np.nan
        return s

    with pytest.raises(ValueError, match=r"NaN.*\[2\]"):
        evaluate(nan_scorer, sp, ht)
    with pytest.raises(ValueError, match="shape"):
        evaluate(lambda u: np.zeros((len(u), N_ITEMS - 1)), sp, ht)
    with pytest.raises(ValueError, match="head/tail"):
        evaluate(
            lambda u: np.zeros((len(u), N_ITEMS)),
            sp,
            ht_for(Split(i64([]), i64([]), i64([]), i64([]), i64([]), i64([]), 1, 3), []),
        )


def test_popularity_baseline() -> None:
    # Training counts: item 0: 3, item 1: 2, item 2: 1, items 3, 4: 0.
    sp = Split(
        i64([1, 1, 1, 2, 2, 3]),
        i64([0, 1, 2, 0, 1, 0]),
        i64([0, 1]),
        i64([4, 3]),
        i64([0, 1]),
        i64([2, 4]),
        n_users=4,
        n_items=5,
    )
    ht = head_tail(sp.train_items, sp.n_items, head_fraction=0.2)
    assert ht.k == 3
    ranks, topk = rank_targets(popularity_scorer(ht), sp, "test", k=2)
    # user 0 (no training, valid 4 excluded): target 2 below items 0, 1 -> rank 3
    # user 1 (trained on 0, 1, 2; valid 3 excluded): target 4 alone -> rank 1
    assert ranks.tolist() == [3, 1]
    assert topk.tolist() == [[0, 1], [4, -1]]


def test_random_baseline_is_per_user_deterministic() -> None:
    score = random_scorer(50, seed=3)
    both = score(i64([3, 7]))
    assert both.dtype == np.float32 and both.shape == (2, 50)
    assert np.array_equal(both[1], score(i64([7]))[0])
    assert np.array_equal(both, random_scorer(50, seed=3)(i64([3, 7])))
    assert not np.array_equal(both, random_scorer(50, seed=4)(i64([3, 7])))
    assert not np.array_equal(both[0], both[1])
    many = random_scorer(1000, seed=0)(np.arange(200, dtype=np.int64))
    assert many.min() >= 0.0 and many.max() < 1.0
    assert abs(float(many.mean()) - 0.5) < 0.01  # 200k uniforms: std of the mean ~ 0.0006


def test_sampled_users_rank_as_in_the_full_evaluation() -> None:
    """``max_users`` ranks a seeded sample of the users: each keeps its full-evaluation rank, the
    slices count only sampled users, and the same seed draws the same sample."""
    sp = known_rank_split()
    table = rank_scorer(sp, RANKS)
    ht = ht_for(sp, tail_targets=[92, 93])
    full = evaluate(lambda u: table[u], sp, ht, batch_size=3)
    seen: set[tuple[int, ...]] = set()
    for seed in range(6):
        part = evaluate(lambda u: table[u], sp, ht, batch_size=1, max_users=2, seed=seed)
        again = evaluate(lambda u: table[u], sp, ht, batch_size=2, max_users=2, seed=seed)
        assert part.ranks is not None and again.ranks is not None and full.ranks is not None
        assert part.ranks.tolist() == again.ranks.tolist()
        assert len(part.ranks) == 2 and part.n_users["all"] == 2
        picked = tuple(RANKS.index(int(r)) for r in part.ranks)
        assert list(picked) == sorted(set(picked))  # distinct users, in split order
        assert part.n_users["tail"] == sum(1 for u in picked if u >= 2)
        hr = np.mean([RANKS[u] <= 10 for u in picked])
        assert part.metrics["all"]["HR@10"] == pytest.approx(hr)
        seen.add(picked)
    assert len(seen) > 1  # the seed changes the sample
    whole = evaluate(lambda u: table[u], sp, ht, max_users=10)
    assert whole.ranks is not None and whole.ranks.tolist() == RANKS
