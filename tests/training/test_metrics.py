"""Accuracy metrics from ranks, Gini and exposure metrics on hand-computed examples."""

from __future__ import annotations

import math

import numpy as np
import pytest

from training.evaluation.exposure import (
    average_recommendation_popularity,
    coverage,
    exposure_metrics,
    gini,
    recommendation_counts,
    tail_share,
)
from training.evaluation.metrics import average_precision, hit_rate, ndcg, ranking_metrics
from training.protocol.headtail import head_tail

RANKS = np.asarray([1, 3, 12, 60], dtype=np.int64)


def test_per_user_metrics() -> None:
    assert hit_rate(RANKS, 10).tolist() == [1.0, 1.0, 0.0, 0.0]
    assert hit_rate(RANKS, 12).tolist() == [1.0, 1.0, 1.0, 0.0]  # r == K is a hit
    assert ndcg(RANKS, 10) == pytest.approx([1.0, 0.5, 0.0, 0.0])  # 1/log2(4) = 0.5
    assert ndcg(RANKS, 20) == pytest.approx([1.0, 0.5, 1 / math.log2(13), 0.0])
    assert ndcg(RANKS, 60)[3] == pytest.approx(1 / math.log2(61))
    assert average_precision(RANKS, 10) == pytest.approx([1.0, 1 / 3, 0.0, 0.0])
    assert average_precision(RANKS, 50) == pytest.approx([1.0, 1 / 3, 1 / 12, 0.0])


def test_ranking_metrics_means() -> None:
    m = ranking_metrics(RANKS, (10, 20, 50))
    assert list(m) == [f"{n}@{k}" for n in ("HR", "NDCG", "MAP") for k in (10, 20, 50)]
    assert m["HR@10"] == pytest.approx(0.5)
    assert m["HR@20"] == pytest.approx(0.75)
    assert m["HR@50"] == pytest.approx(0.75)
    assert m["NDCG@10"] == pytest.approx((1 + 0.5) / 4)
    assert m["NDCG@50"] == pytest.approx((1 + 0.5 + 1 / math.log2(13)) / 4)
    assert m["MAP@10"] == pytest.approx((1 + 1 / 3) / 4)
    assert m["MAP@20"] == pytest.approx((1 + 1 / 3 + 1 / 12) / 4)
    # A large "not ranked" sentinel is simply a miss.
    assert ranking_metrics(np.asarray([10**9]), (50,))["HR@50"] == 0.0


def test_ranking_metrics_edge_cases() -> None:
    assert ranking_metrics(np.zeros(0, np.int64), (10,)) == {
        "HR@10": 0.0,
        "NDCG@10": 0.0,
        "MAP@10": 0.0,
    }
    with pytest.raises(ValueError, match="1-based"):
        hit_rate(np.asarray([0, 1]), 10)
    with pytest.raises(ValueError, match="K must be"):
        ndcg(RANKS, 0)


def test_gini_known_vectors() -> None:
    assert gini(np.asarray([1, 1, 1, 1])) == 0.0
    assert gini(np.asarray([0, 0, 0, 4])) == pytest.approx(0.75)
    assert gini(np.asarray([4, 0, 0, 0])) == pytest.approx(0.75)  # order does not matter
    # sorted [1, 2, 3]: (-2*1 + 0*2 + 2*3) / (3 * 6) = 4/18
    assert gini(np.asarray([3, 1, 2])) == pytest.approx(4 / 18)
    assert gini(np.zeros(5)) == 0.0
    assert gini(np.zeros(0)) == 0.0
    with pytest.raises(ValueError, match="non-negative"):
        gini(np.asarray([1, -1]))


def test_gini_matches_mean_absolute_difference() -> None:
    # G = sum_ij |x_i - x_j| / (2 n^2 mean): an independent definition of the same quantity.
    x = np.random.default_rng(0).integers(0, 50, size=37).astype(np.float64)
    mad = np.abs(x[:, None] - x[None, :]).sum() / (2 * len(x) ** 2 * x.mean())
    assert gini(x) == pytest.approx(mad)


# Catalogue of 6 items; training counts 10, 8, 5, 1, 0, 0. 34% of 6 = 2.04 -> 2 head slots, k = 8:
# head {0, 1}, tail {2, 3, 4, 5}.
HT = head_tail(np.repeat(np.arange(6), [10, 8, 5, 1, 0, 0]), n_items=6, head_fraction=0.34)
TOPK = np.asarray([[0, 2, 4], [0, 1, 3]], dtype=np.int64)


def test_hand_built_exposure() -> None:
    assert HT.k == 8 and HT.is_tail.tolist() == [False, False, True, True, True, True]
    e = exposure_metrics(TOPK, HT, (2, 3))
    # K = 2: lists [0, 2] and [0, 1]; counts [2, 1, 1, 0, 0, 0]
    assert e["coverage@2"] == pytest.approx(3 / 6)
    assert e["tail_share@2"] == pytest.approx((1 / 2 + 0) / 2)
    assert e["arp@2"] == pytest.approx(((10 + 5) / 2 + (10 + 8) / 2) / 2)
    # sorted [0,0,0,1,1,2], n = 6, sum 4: (1*1 + 3*1 + 5*2) / 24
    assert e["gini@2"] == pytest.approx(14 / 24)
    # K = 3: counts [2, 1, 1, 1, 1, 0]
    assert e["coverage@3"] == pytest.approx(5 / 6)
    assert e["tail_share@3"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert e["arp@3"] == pytest.approx((15 / 3 + 19 / 3) / 2)
    # sorted [0,1,1,1,1,2], weights -5,-3,-1,1,3,5: (-3 - 1 + 1 + 3 + 10) / 36
    assert e["gini@3"] == pytest.approx(10 / 36)
    assert list(e) == [
        "coverage@2",
        "tail_share@2",
        "arp@2",
        "gini@2",
        "coverage@3",
        "tail_share@3",
        "arp@3",
        "gini@3",
    ]


def test_padding_is_ignored() -> None:
    topk = np.asarray([[1, -1, -1], [2, 3, -1]], dtype=np.int64)
    assert recommendation_counts(topk, 6).tolist() == [0, 1, 1, 1, 0, 0]
    assert coverage(topk, 6) == pytest.approx(3 / 6)
    assert tail_share(topk, HT.is_tail) == pytest.approx((0 / 1 + 2 / 2) / 2)
    assert average_recommendation_popularity(topk, HT.train_counts) == pytest.approx(
        (8 + (5 + 1) / 2) / 2
    )
    assert tail_share(np.full((2, 2), -1), HT.is_tail) == 0.0


def test_exposure_bad_input() -> None:
    with pytest.raises(ValueError, match="item index"):
        exposure_metrics(np.asarray([[0, 6]]), HT, (2,))
    with pytest.raises(ValueError, match="fewer than K"):
        exposure_metrics(TOPK, HT, (10,))
