"""Tail items indexed apart: one index over the head items, one over the tail items, searched
side by side and merged by score (``IndexOptions.tail_index = "apart"``).

Why: an approximate index spends its search effort where the query's neighbours are, and a
trained model's neighbours are mostly head items, so tail items are what it loses first; under a
selective filter (a search admitting only tail items, 3.5% of the 1M bench catalogue) HNSW found
0.01–0.21 of the exact tail top-50 and IVF at nprobe 512 0.89 (docs/benchmarks/index_sweep_1m.md).
Apart, the tail is searched on its own: exactly (``IndexFlatIP``) up to
``IndexOptions.auto_flat_max_items`` tail items, else by an index of the configured kind built
over the tail alone, so a filter to tail items is no longer selective there. Measured on the same
catalogue (HNSW M 32 head + exact tail, efSearch 64): 0.998 of the served top-50, 1.000 on the
tail-only search, p50 209 µs per search (the tail's exact scan is most of it); the default for
catalogues above ``auto_flat_max_items`` (``IndexOptions.resolved``).

Ids: each part is an ``ItemIndex`` over its own rows (local ids ``0..n_part-1``); ``rows[p]``
maps them back to bundle item indices, ``part_of`` / ``local`` map bundle indices into a part.
Both parts return inner products, so merging is a top-``k`` over the concatenated scores.
"""

from __future__ import annotations

import numpy as np

from service.index import ItemIndex, SearchResult, build_index
from service.settings import IndexOptions


class SplitIndex:
    def __init__(self, parts: list[ItemIndex], rows: list[np.ndarray], options: IndexOptions):
        self.parts = parts
        self.rows = rows  # int64 [n_part] bundle item index of each part's local id
        self.n_items = sum(len(r) for r in rows)
        self.dim = parts[0].dim
        self._options = options
        self.part_of = np.empty(self.n_items, dtype=np.int8)  # [n_items] part of each item
        self.local = np.empty(self.n_items, dtype=np.int64)  # [n_items] its local id there
        for p, r in enumerate(rows):
            self.part_of[r] = p
            self.local[r] = np.arange(len(r))

    @property
    def kind(self) -> str:
        return self._options.kind

    @property
    def options(self) -> IndexOptions:
        return self._options

    @options.setter
    def options(self, value: IndexOptions) -> None:
        """New search parameters (efSearch, nprobe) for the parts of the approximate kind."""
        self._options = value
        for part in self.parts:
            if part.kind != "flat":
                part.options = value.model_copy(update={"kind": part.kind})

    def describe(self) -> str:
        """E.g. ``hnsw head + flat tail`` (what /readyz and the registry show)."""
        return f"{self.parts[0].kind} head + {self.parts[1].kind} tail"

    def serialized_bytes(self) -> int:
        return sum(p.serialized_bytes() for p in self.parts)

    def search_batch(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` for a batch ``[B, dim]`` over both parts: (scores [B, k], ids [B, k] bundle
        indices, -1 where none)."""
        return self._merged(queries, k, [(p, None) for p in range(len(self.parts))])

    def search_batch_admitting(
        self, queries: np.ndarray, k: int, admit: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """As ``search_batch`` among the items where ``admit`` (bool ``[n_items]``) is set; a
        part admitting nothing is not searched, one admitting everything without a filter."""
        admit = np.asarray(admit, dtype=bool)
        if admit.shape != (self.n_items,):
            raise ValueError(f"admit must be a bool [{self.n_items}] mask, got {list(admit.shape)}")
        plan: list[tuple[int, np.ndarray | None]] = []
        for p, r in enumerate(self.rows):
            local_admit = admit[r]
            if local_admit.all():
                plan.append((p, None))
            elif local_admit.any():
                plan.append((p, local_admit))
        return self._merged(queries, k, plan)

    def _merged(
        self, queries: np.ndarray, k: int, plan: list[tuple[int, np.ndarray | None]]
    ) -> tuple[np.ndarray, np.ndarray]:
        q = np.ascontiguousarray(queries, dtype=np.float32)
        k = max(1, min(k, self.n_items))
        scores, ids = [], []
        for p, admit in plan:
            part = self.parts[p]
            s, i = (
                part.search_batch(q, k)
                if admit is None
                else part.search_batch_admitting(q, k, admit)
            )
            found = i >= 0
            ids.append(np.where(found, self.rows[p][np.maximum(i, 0)], -1))  # [B, k_p]
            scores.append(np.where(found, s, -np.inf).astype(np.float32))
        if not ids:
            return np.full((len(q), k), -np.inf, np.float32), np.full((len(q), k), -1, np.int64)
        all_s, all_i = np.hstack(scores), np.hstack(ids)  # [B, Σ k_p]
        if all_s.shape[1] < k:  # pad: fewer admitted items than k
            pad = k - all_s.shape[1]
            all_s = np.hstack([all_s, np.full((len(q), pad), -np.inf, np.float32)])
            all_i = np.hstack([all_i, np.full((len(q), pad), -1, np.int64)])
        order = np.argsort(-all_s, axis=1, kind="stable")[:, :k]  # best first
        return np.take_along_axis(all_s, order, 1), np.take_along_axis(all_i, order, 1)

    def search(self, query: np.ndarray, k: int, exclude: np.ndarray | None = None) -> SearchResult:
        """Top ``k`` items for one query over both parts, never returning one in ``exclude``."""
        k = min(k, self.n_items)
        if k <= 0:
            return SearchResult(np.zeros(0, np.int64), np.zeros(0, np.float32))
        ex = None if exclude is None else np.asarray(exclude, dtype=np.int64)
        found = []
        for p, part in enumerate(self.parts):
            local_ex = None if ex is None else self.local[ex[self.part_of[ex] == p]]
            r = part.search(query, k, local_ex)
            found.append((self.rows[p][r.ids], r.scores))
        ids = np.concatenate([f[0] for f in found])
        scores = np.concatenate([f[1] for f in found])
        order = np.argsort(-scores, kind="stable")[:k]
        return SearchResult(ids[order], scores[order])


AnyIndex = ItemIndex | SplitIndex


def build_item_index(
    embeddings: np.ndarray, options: IndexOptions, is_tail: np.ndarray, *, threads: int = 1
) -> AnyIndex:
    """The configured index over ``embeddings`` (float32 ``[n_items, dim]``): one ``ItemIndex``,
    or a ``SplitIndex`` where ``options.tail_index`` is "apart", the kind is approximate and
    both head and tail hold items."""
    resolved = options.resolved(len(embeddings))
    tail = np.asarray(is_tail, dtype=bool)
    if tail.shape != (len(embeddings),):
        raise ValueError(f"is_tail must be a bool [{len(embeddings)}] mask, got {list(tail.shape)}")
    if resolved.tail_index == "shared" or resolved.kind == "flat" or tail.all() or not tail.any():
        return build_index(embeddings, resolved, threads=threads)
    rows = [np.flatnonzero(~tail), np.flatnonzero(tail)]
    x = np.asarray(embeddings, dtype=np.float32)
    head = build_index(x[rows[0]], resolved, threads=threads)
    tail_kind = "flat" if len(rows[1]) <= resolved.auto_flat_max_items else resolved.kind
    tail_part = build_index(
        x[rows[1]], resolved.model_copy(update={"kind": tail_kind}), threads=threads
    )
    return SplitIndex([head, tail_part], rows, resolved)
