"""Known users' answers, computed once at load: each known user's exact top-``depth`` items at a
variant's λ_p, with the user's own history excluded.

Why: a bundle is immutable while it is served, so for a known user at the variant's λ_p the
exact answer never changes, and on a small catalogue the per-request search is most of a
request's cost (ML-1M: the exact scan with the history excluded took ~100 of the ~160 µs in
process, docs/benchmarks/request_cost.md). Computed in one pass, it is a blocked matrix product
(BLAS), far cheaper per user than one search each: ML-1M's 6,040 users take a fraction of a
second.

Used only where it gives what the exact index would (``Variant.recommend``): a known user, the
variant's own λ_p, ``k`` ≤ ``depth``, an exact (flat) index, and the request's ``history`` /
``exclude`` leaving at least ``k`` of the user's ``depth`` items (they are removed from the
list). Every other request searches the index as before. Enabled where ``n_users × n_items`` is at
most ``VariantConfig.answers_max_cells``; memory is ``n_users × depth × 8`` bytes (int32 rows and
float32 scores), e.g. 4.8 MB for ML-1M at depth 100.

Scores are the inner products of the same float32 query and item vectors the index holds; the
product's summation order differs from FAISS' scan, so two items whose scores agree to ~1e-7 may
come out in the other order (as they may between any two exact kernels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.index import is_member

# Users per block of the product: a block's scores are [block, n_items] float32 (ML-1M: 15 MB).
_BLOCK_USERS = 1024


@dataclass(frozen=True, eq=False)
class KnownAnswers:
    lambda_p: float | None  # the λ_p they were computed at (None: not a MIRec bundle)
    rows: np.ndarray  # int32 [n_users, depth], best first, -1 past a user's last rankable item
    scores: np.ndarray  # float32 [n_users, depth]

    @property
    def depth(self) -> int:
        return int(self.rows.shape[1])

    def top(
        self, user_idx: int, k: int, exclude: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(rows int64 [<= k], scores float32) of a known user, best first (k <= depth), without
        the rows in ``exclude`` (int64, beyond the user's history). None when excluding leaves
        fewer than ``k`` of the ``depth`` and the catalogue may hold more: then only a search
        can answer. Why excluding is exact: the stored list is the exact top-``depth`` of the
        catalogue minus the history, so its first ``k`` rows outside ``exclude`` are the exact
        top-``k`` of the catalogue minus both."""
        rows = self.rows[user_idx]
        scores = self.scores[user_idx]
        keep = rows >= 0
        if exclude is not None and len(exclude):
            keep &= ~is_member(rows, exclude)
        if not keep[:k].all():
            if int(keep.sum()) < k and rows[-1] >= 0:
                return None
            rows, scores = rows[keep], scores[keep]
        return rows[:k].astype(np.int64), scores[:k]


def compute_known_answers(
    queries: np.ndarray,
    items: np.ndarray,
    history: tuple[np.ndarray, np.ndarray] | None,
    depth: int,
    lambda_p: float | None,
) -> KnownAnswers:
    """Exact top-``depth`` of every user: ``queries`` float32 [n_users, d] (the served queries at
    ``lambda_p``), ``items`` float32 [n_items, d], ``history`` a CSR (indptr [n_users + 1], item
    rows) of what each user never gets back, or None."""
    n_users, n_items = len(queries), len(items)
    depth = max(1, min(depth, n_items))
    rows = np.full((n_users, depth), -1, dtype=np.int32)
    scores = np.full((n_users, depth), -np.inf, dtype=np.float32)
    items_t = np.ascontiguousarray(items, dtype=np.float32).T  # [d, n_items]
    for start in range(0, n_users, _BLOCK_USERS):
        stop = min(start + _BLOCK_USERS, n_users)
        block = np.ascontiguousarray(queries[start:stop], dtype=np.float32) @ items_t  # [b, n]
        if history is not None:
            indptr, hist = history
            lo, hi = int(indptr[start]), int(indptr[stop])
            counts = np.diff(indptr[start : stop + 1])  # [b]
            block[np.repeat(np.arange(stop - start), counts), hist[lo:hi]] = -np.inf
        if depth < n_items:
            part = np.argpartition(-block, depth - 1, axis=1)[:, :depth]  # [b, depth], unordered
        else:
            part = np.broadcast_to(np.arange(n_items), (stop - start, n_items))
        part_scores = np.take_along_axis(block, part, axis=1)
        order = np.argsort(-part_scores, axis=1, kind="stable")
        top = np.take_along_axis(part, order, axis=1)  # [b, depth], best first
        top_scores = np.take_along_axis(part_scores, order, axis=1)
        rankable = np.isfinite(top_scores)
        rows[start:stop] = np.where(rankable, top, -1)
        scores[start:stop] = top_scores
    return KnownAnswers(lambda_p=lambda_p, rows=rows, scores=scores)
