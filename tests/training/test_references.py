"""EASE and RP3β against hand-computed weights and scores on a 2-user × 3-item matrix."""

from __future__ import annotations

import numpy as np
import pytest

from training.evaluation.references.ease import ease_weights, matrix_scorer
from training.evaluation.references.interactions import train_matrix
from training.evaluation.references.rp3beta import rp3beta_weights
from training.protocol.split import Split


def i64(x: list[int]) -> np.ndarray:
    return np.asarray(x, dtype=np.int64)


# User 0 trained on items 0, 1; user 1 on items 1, 2 (item 1 twice: duplicates count once).
SPLIT = Split(
    i64([0, 0, 1, 1, 1]), i64([0, 1, 1, 2, 1]), i64([0]), i64([2]), i64([0]), i64([2]), 2, 3
)
X = np.array([[1, 1, 0], [0, 1, 1]], dtype=np.float32)


def test_train_matrix_is_binary() -> None:
    np.testing.assert_array_equal(train_matrix(SPLIT), X)


def test_ease_weights_and_scores_by_hand() -> None:
    # XᵀX + I = [[2,1,0],[1,3,1],[0,1,2]], det 8, inverse P = [[5,-2,1],[-2,4,-2],[1,-2,5]] / 8;
    # B_ij = -P_ij / P_jj off the diagonal, 0 on it.
    b = ease_weights(X, 1.0)
    expected = np.array([[0.0, 0.5, -0.2], [0.4, 0.0, 0.4], [-0.2, 0.5, 0.0]])
    np.testing.assert_allclose(b, expected, atol=1e-6)
    scores = matrix_scorer(X, b)(i64([0, 1]))
    np.testing.assert_allclose(scores, [[0.4, 0.5, 0.2], [0.2, 0.5, 0.4]], atol=1e-6)


def test_ease_refuses_a_non_positive_lambda() -> None:
    with pytest.raises(ValueError, match="λ"):
        ease_weights(X, 0.0)


def test_rp3beta_weights_by_hand() -> None:
    # P_ui = [[.5,.5,0],[0,.5,.5]], P_iu = [[1,0],[.5,.5],[0,1]]; W = P_iu P_ui, zero diagonal.
    w0 = rp3beta_weights(X, 0.0)
    np.testing.assert_allclose(w0, [[0, 0.5, 0], [0.25, 0, 0.25], [0, 0.5, 0]], atol=1e-6)
    # β = 1 divides column j by item j's degree (1, 2, 1).
    w1 = rp3beta_weights(X, 1.0)
    np.testing.assert_allclose(w1, [[0, 0.25, 0], [0.25, 0, 0.25], [0, 0.25, 0]], atol=1e-6)
