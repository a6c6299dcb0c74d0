"""RP3β (Paudel et al. 2017): a three-step random walk user → item → user → item, with the
destination item's popularity divided out to the power β.

``W = P_iu · P_ui`` (row-stochastic transition matrices, ``P_ui = D_u⁻¹ X``, ``P_iu = D_i⁻¹ Xᵀ``),
then column j of W divided by ``deg_j^β`` and the diagonal zeroed; scores ``X_u W``. β = 0 is a
plain item-item random walk (popularity-biased); larger β favours less popular items.
"""

from __future__ import annotations

import numpy as np


def rp3beta_weights(x: np.ndarray, beta: float) -> np.ndarray:
    """``W [n_items, n_items]`` (float32) from the binary matrix ``x [n_users, n_items]``."""
    if beta < 0:
        raise ValueError(f"RP3β β must be >= 0, got {beta}")
    du = np.maximum(x.sum(axis=1, keepdims=True), 1.0)  # [n_users, 1]
    di = np.maximum(x.sum(axis=0), 1.0)  # [n_items]
    p_ui = x / du  # [n_users, n_items]
    p_iu = (x / di[None, :]).T  # [n_items, n_users]
    w = p_iu @ p_ui  # [n_items, n_items]
    w /= di[None, :] ** beta
    w[np.diag_indices_from(w)] = 0.0
    return w.astype(np.float32)
