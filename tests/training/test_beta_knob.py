"""The post-hoc popularity knob score − β·log(1 + count) on hand-computed values."""

from __future__ import annotations

import math

import numpy as np
import torch

from training.evaluation.beta_knob import beta_scorer, popularity_penalty
from training.evaluation.evaluator import evaluate
from training.protocol.headtail import head_tail
from training.protocol.split import Split

COUNTS = np.array([0, 1, 3], dtype=np.int64)


def i64(x: list[int]) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


def test_penalty_is_log1p_of_the_count() -> None:
    np.testing.assert_allclose(popularity_penalty(COUNTS), [0.0, math.log(2), math.log(4)])


def test_numpy_and_torch_scores_are_shifted_by_hand_values() -> None:
    raw = np.array([[3.0, 2.0, 1.0]], dtype=np.float32)
    expected = [[3.0, 2.0 - math.log(2), 1.0 - math.log(4)]]
    np.testing.assert_allclose(beta_scorer(lambda u: raw, COUNTS, 1.0)(i64([0])), expected, 1e-6)
    t = beta_scorer(lambda u: torch.from_numpy(raw), COUNTS, 1.0)(i64([0]))
    assert isinstance(t, torch.Tensor)
    np.testing.assert_allclose(t.numpy(), expected, rtol=1e-6)
    assert raw[0, 0] == 3.0  # the wrapped scorer's output is not modified


def test_beta_moves_a_tail_target_up_the_ranking() -> None:
    # 1 user, 4 items; item 3 (tested) never trained on, items 0-2 popular among other users.
    split = Split(
        i64([1, 1, 2, 2, 3]), i64([0, 1, 0, 1, 0]), i64([0]), i64([2]), i64([0]), i64([3]), 4, 4
    )
    ht = head_tail(split.train_items, 4, head_fraction=0.5)
    # counts = [3, 2, 0, 0]; scores favour the popular items by a margin 0.5 over the target.
    raw = np.array([[1.5, 1.5, 0.0, 1.0]], dtype=np.float32)

    def rank(beta: float) -> int:
        s = beta_scorer(lambda u: raw, ht.train_counts, beta)
        r = evaluate(s, split, ht, role="test", ks=(1, 2, 3))
        return int(r.ranks[0])

    assert rank(0.0) == 3  # below items 0 and 1
    # β = 0.4: item 0 -> 1.5 - 0.4·log 4 = 0.945, item 1 -> 1.5 - 0.4·log 3 = 1.061: target 2nd.
    assert rank(0.4) == 2
    # β = 0.5: item 1 -> 1.5 - 0.5·log 3 = 0.951 < 1: the target is first.
    assert rank(0.5) == 1
