"""Non-learned reference scorers: popularity and random.

Both follow the evaluator's ``Scorer`` contract: int64 user indices ``[B]`` -> float32 scores
``[B, n_items]``.
"""

from __future__ import annotations

import numpy as np

from training.evaluation.evaluator import Scorer
from training.protocol.headtail import HeadTail


def popularity_scorer(headtail: HeadTail) -> Scorer:
    """Every user gets the items' training counts as scores (most popular first)."""
    row = headtail.train_counts.astype(np.float32)  # [n_items]

    def score(users: np.ndarray) -> np.ndarray:
        return np.tile(row, (len(users), 1))  # [B, n_items], a fresh array per call

    return score


def _splitmix64(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser on uint64 arrays (wrapping arithmetic): a well-mixed 64-bit hash.

    Works in place on one fresh copy, so a [B, n_items] batch needs about two such arrays.
    """
    x = x + np.uint64(0x9E3779B97F4A7C15)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def random_scorer(n_items: int, seed: int) -> Scorer:
    """Uniform [0, 1) scores that depend only on (seed, user, item).

    A hash, not a stateful generator, so a user's scores are the same however users are batched
    or ordered: score = top 24 bits of splitmix64(splitmix64(user ^ splitmix64(seed)) + item),
    divided by 2^24 (exact in float32). Memory: about 16 bytes per score of the batch.
    """
    if n_items < 1:
        raise ValueError(f"n_items must be >= 1, got {n_items}")
    seed_key = _splitmix64(np.asarray([seed & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0]
    items = np.arange(n_items, dtype=np.uint64)  # [n_items]

    def score(users: np.ndarray) -> np.ndarray:
        u = np.asarray(users, dtype=np.int64).astype(np.uint64)  # [B]
        user_key = _splitmix64(u ^ seed_key)  # [B]
        with np.errstate(over="ignore"):
            h = _splitmix64(user_key[:, None] + items[None, :])  # [B, n_items] uint64
        h >>= np.uint64(40)  # top 24 bits: exactly representable in float32
        out = h.astype(np.float32)
        out *= np.float32(1.0 / (1 << 24))
        return out

    return score
