"""EASE (Steck 2019): a closed-form item-item linear autoencoder.

``P = (XᵀX + λI)⁻¹``, ``B = I − P · diag(1 / diag(P))`` (so ``diag(B) = 0``), scores ``X_u B``:
the least-squares item-item weights with a zero diagonal, ridge strength λ.
"""

from __future__ import annotations

import numpy as np

from training.evaluation.evaluator import Scorer


def ease_weights(x: np.ndarray, lam: float) -> np.ndarray:
    """``B [n_items, n_items]`` (float32) from the binary matrix ``x [n_users, n_items]``."""
    if lam <= 0:
        raise ValueError(f"EASE λ must be > 0, got {lam}")
    g = x.T.astype(np.float64) @ x.astype(np.float64)  # [n_items, n_items] Gram matrix
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    b = -p / np.diag(p)[None, :]  # column j divided by P_jj
    b[np.diag_indices_from(b)] = 0.0
    return b.astype(np.float32)


def matrix_scorer(x: np.ndarray, w: np.ndarray) -> Scorer:
    """Scores ``x[users] @ w``: float32 ``[B, n_items]`` (any item-item model)."""

    def score(users: np.ndarray) -> np.ndarray:
        return x[users] @ w

    return score
