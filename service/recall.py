"""Recall@K of an approximate index against the exact one, separately for head and tail items.

For each query, the exact top-K set E and the approximate top-K set A:
``recall(slice) = Σ_q |A ∩ E ∩ slice| / Σ_q |E ∩ slice|`` (micro-averaged over queries), for the
slices all / head / tail, using the bundle's ``is_tail`` labels. A slice absent from every exact
list has recall ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass

import faiss
import numpy as np

from service.split_index import AnyIndex


@dataclass(frozen=True)
class RecallReport:
    k: int
    n_queries: int
    all: float | None
    head: float | None
    tail: float | None
    head_truth: int  # Σ_q |E ∩ head|
    tail_truth: int

    def as_dict(self) -> dict[str, float | int | None]:
        return {
            "k": self.k,
            "n_queries": self.n_queries,
            "all": self.all,
            "head": self.head,
            "tail": self.tail,
            "head_truth": self.head_truth,
            "tail_truth": self.tail_truth,
        }


def exact_top_k(
    embeddings: np.ndarray, queries: np.ndarray, k: int, threads: int = 1
) -> np.ndarray:
    """Exact inner-product top-``k`` ids ``[B, k]`` (brute force, no index kept)."""
    faiss.omp_set_num_threads(max(1, threads))
    try:
        _, ids = faiss.knn(
            np.ascontiguousarray(queries, np.float32),
            np.ascontiguousarray(embeddings, np.float32),
            k,
            metric=faiss.METRIC_INNER_PRODUCT,
        )
    finally:
        faiss.omp_set_num_threads(1)
    return ids


def recall_against_exact(
    exact_ids: np.ndarray, approx_ids: np.ndarray, is_tail: np.ndarray
) -> tuple[float | None, float | None, float | None, int, int]:
    """(all, head, tail, head_truth, tail_truth) from two ``[B, k]`` id matrices."""
    hit = {"all": 0, "head": 0, "tail": 0}
    truth = {"all": 0, "head": 0, "tail": 0}
    for e_row, a_row in zip(exact_ids, approx_ids, strict=True):
        e = e_row[e_row >= 0]
        found = np.isin(e, a_row[a_row >= 0])
        tail = is_tail[e]
        truth["all"] += len(e)
        hit["all"] += int(found.sum())
        truth["tail"] += int(tail.sum())
        hit["tail"] += int((found & tail).sum())
    truth["head"] = truth["all"] - truth["tail"]
    hit["head"] = hit["all"] - hit["tail"]

    def ratio(s: str) -> float | None:
        return hit[s] / truth[s] if truth[s] else None

    return ratio("all"), ratio("head"), ratio("tail"), truth["head"], truth["tail"]


def measure_recall(
    index: AnyIndex,
    embeddings: np.ndarray,
    queries: np.ndarray,
    is_tail: np.ndarray,
    k: int = 50,
    threads: int = 1,
) -> RecallReport:
    k = min(k, index.n_items)
    exact = exact_top_k(embeddings, queries, k, threads)
    _, approx = index.search_batch(queries, k)
    all_, head, tail, head_truth, tail_truth = recall_against_exact(exact, approx, is_tail)
    return RecallReport(k, len(queries), all_, head, tail, head_truth, tail_truth)
