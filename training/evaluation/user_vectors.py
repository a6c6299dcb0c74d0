"""User query vectors of a reloaded bundle, for offline evaluation of exactly what is served."""

from __future__ import annotations

import numpy as np

from models.bundle import Bundle


def bundle_user_vectors(bundle: Bundle, batch_size: int = 4096) -> np.ndarray:
    """All known users' query vectors ``[n_users, index_dim]`` at the manifest's λ_p."""
    enc = bundle.query_encoder()
    n = len(bundle.user_ids)
    parts = [
        enc.encode_known(np.arange(s, min(n, s + batch_size), dtype=np.int64))
        for s in range(0, n, batch_size)
    ]
    return np.concatenate(parts, axis=0)
