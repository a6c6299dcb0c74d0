"""FAISS inner-product index over a bundle's item embeddings.

Row ``i`` of the index is item ``i`` of the bundle (FAISS ids = bundle item indices). ``flat``
(``IndexFlatIP``, exact) serves catalogues up to ``IndexOptions.auto_flat_max_items`` under the
default ``auto``; ``hnsw`` and ``ivf`` (IVF: flat or HNSW coarse quantizer, float32 or SQ8 codes
with an exact re-rank) are the approximate options for large catalogues, whose recall against the
exact index is measured per head/tail slice (``service/recall.py``) because approximate search
tends to lose the tail first.

HNSW searches an L2 graph over MIPS-augmented vectors (Bachrach et al. 2014): each item ``x``
becomes ``[x, sqrt(M² − |x|²)]`` with ``M`` the largest item norm and each query ``[q, 0]``, so
the L2-nearest items are exactly the largest inner products. Why: a graph is built for a metric;
on raw inner products (not a metric, large-norm "hub" items) HNSW loses recall at the same search
effort (measured: recall@50 0.87 -> 0.95 at efSearch 512 on 50k random-weight MIRec items).
Scores are converted back to inner products (``(|q|² + M² − d²) / 2``), so every index returns
the same kind of score. IVF stays on inner product: there the augmentation measured worse (its
coarse k-means is dominated by the extra dimension for small-norm items).

Exclusion passes FAISS a bitmap of the allowed items (``IDSelectorBitmap``), so the search skips
excluded items itself and is asked for ``k`` results only. Why: a known user's whole history is
excluded (ML-1M: 166 items on average), and over-fetching ``k + |excluded|`` then filtering made
exact search on ML-1M about 1.7x slower per request (mean 70 -> 42 µs; HNSW on 100k items 134 ->
126 µs; identical results). Should an approximate index return fewer than ``k`` (a graph search
can run out of allowed candidates when nearly everything near the query is excluded), the search
falls back to over-fetching ``k + |excluded|`` candidates and filtering, with HNSW's ``efSearch``
raised to that many, so excluding items never returns fewer than ``k`` when the catalogue has
``k`` non-excluded items.

Threads: the search itself runs on the caller's thread; the service calls it from the event-loop
thread, where ``faiss.omp_set_num_threads(1)`` is set at startup (OpenMP's thread count is per
calling thread), so one request never fans out over several cores. Building an index uses the
thread count passed to ``build_index``, on the building thread only.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass

import faiss
import numpy as np

from service.settings import IndexOptions

_ALL_BITS = 0xFF
# From this many items on, exclusion clears single bits instead of rebuilding the bitmap.
_SPARSE_EXCLUSION_ITEMS = 65_536


@dataclass(frozen=True)
class SearchResult:
    ids: np.ndarray  # int64 [<= k], bundle item indices, best first
    scores: np.ndarray  # float32, same length


class ItemIndex:
    def __init__(
        self,
        index: faiss.Index,
        options: IndexOptions,
        n_items: int,
        dim: int,
        max_norm_sq: float | None = None,
    ) -> None:
        self._index = index
        self.options = options
        self.n_items = n_items
        self.dim = dim
        self._max_norm_sq = max_norm_sq  # set when the index holds MIPS-augmented vectors
        # SWIG parameter objects by (efSearch or nprobe, with the exclusion selector): building
        # them per request cost ~8 µs (cProfile, ML-1M). Bounded: efSearch grows with k.
        self._param_cache: dict[tuple[int, bool], faiss.SearchParameters | None] = {}
        # Exclusion: one allowed-items bitmap per index, refilled per call under the lock (FAISS
        # reads it through the selector's pointer during the search).
        self._allowed_bits = np.full((n_items + 7) // 8, _ALL_BITS, dtype=np.uint8)
        self._allowed_selector = faiss.IDSelectorBitmap(n_items, faiss.swig_ptr(self._allowed_bits))
        self._allowed_lock = threading.Lock()

    @property
    def kind(self) -> str:
        return self.options.kind

    def _params(self, k: int, allowed_only: bool = False) -> faiss.SearchParameters | None:
        """Search parameters for ``k`` results; ``allowed_only``: with the selector that admits
        only the items set in ``self._allowed_bits``. Cached and reused."""
        o = self.options
        value = max(o.hnsw_ef_search, k) if o.kind == "hnsw" else o.ivf_nprobe
        key = (value, allowed_only)
        if key in self._param_cache:
            return self._param_cache[key]
        sel = {"sel": self._allowed_selector} if allowed_only else {}
        params: faiss.SearchParameters | None
        # faiss-cpu's bundled __init__.pyi lacks SearchParametersHNSW and the SWIG keyword
        # arguments of SearchParametersIVF and IndexRefineSearchParameters; all exist at runtime
        # (test_index_recall.py).
        if o.kind == "hnsw":
            params = faiss.SearchParametersHNSW(efSearch=value, **sel)  # type: ignore[attr-defined]
        elif o.kind == "ivf":
            coarse = (
                # The graph must return at least nprobe centroids.
                {"quantizer_params": faiss.SearchParametersHNSW(efSearch=max(value, 64))}  # type: ignore[attr-defined]
                if o.ivf_quantizer == "hnsw"
                else {}
            )
            params = faiss.SearchParametersIVF(nprobe=value, **coarse, **sel)  # type: ignore[call-arg]
            if o.ivf_codec != "flat":
                params = faiss.IndexRefineSearchParameters(  # type: ignore[call-arg]
                    k_factor=float(o.ivf_rerank), base_index_params=params
                )
        else:
            params = faiss.SearchParameters(**sel) if allowed_only else None
        if len(self._param_cache) < 1024:
            self._param_cache[key] = params
        return params

    def search_batch(
        self, queries: np.ndarray, k: int, params: faiss.SearchParameters | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Raw top-``k`` for a batch ``[B, dim]``: (scores [B, k], ids [B, k], -1 where none).
        ``params``: instead of the configured search parameters (e.g. with the selector)."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise ValueError(f"queries must be [B, {self.dim}], got {list(q.shape)}")
        k = max(1, min(k, self.n_items))
        if params is None:
            params = self._params(k)
        if self._max_norm_sq is not None:
            q_norm_sq = (q * q).sum(axis=1, keepdims=True)
            augmented = np.zeros((len(q), self.dim + 1), dtype=np.float32)  # [B, dim + 1]
            augmented[:, : self.dim] = q
            q = augmented
        found = (
            self._index.search(q, k) if params is None else self._index.search(q, k, params=params)
        )
        scores, ids = found
        if self._max_norm_sq is not None:
            scores = ((q_norm_sq + self._max_norm_sq - scores) * 0.5).astype(np.float32)
        return scores, ids

    def search_batch_admitting(
        self, queries: np.ndarray, k: int, admit: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Raw top-``k`` for a batch ``[B, dim]`` among the items where ``admit`` (bool
        ``[n_items]``) is set, through the exclusion selector: (scores [B, k], ids [B, k], -1
        where fewer are found). E.g. a tail-items-only search."""
        admit = np.asarray(admit, dtype=bool)
        if admit.shape != (self.n_items,):
            raise ValueError(f"admit must be a bool [{self.n_items}] mask, got {list(admit.shape)}")
        with self._allowed_lock:
            self._allowed_bits[:] = np.packbits(admit, bitorder="little")
            try:
                return self.search_batch(queries, k, self._params(k, allowed_only=True))
            finally:
                self._allow_all(None)

    def serialized_bytes(self) -> int:
        """What the index holds, by FAISS' own serialisation (vectors, codes, lists, graph)."""
        return int(faiss.serialize_index(self._index).nbytes)

    def search(self, query: np.ndarray, k: int, exclude: np.ndarray | None = None) -> SearchResult:
        """Top ``k`` items for one query, never returning an index in ``exclude``."""
        k = min(k, self.n_items)
        if k <= 0:
            return SearchResult(np.zeros(0, np.int64), np.zeros(0, np.float32))
        q = query.reshape(1, -1)
        if exclude is None or len(exclude) == 0:
            scores, ids = self.search_batch(q, k)
        else:
            with self._allowed_lock:
                cleared = self._disallow(exclude)
                try:
                    scores, ids = self.search_batch(q, k, self._params(k, allowed_only=True))
                finally:
                    self._allow_all(cleared)
        ids, scores = ids[0], scores[0]
        # FAISS pads a short answer with -1 at the end (best first): a full one needs no mask.
        if ids[-1] < 0:
            keep = ids >= 0
            ids, scores = ids[keep], scores[keep]
            if exclude is not None and len(exclude) and self.options.kind != "flat":
                return self._search_over_fetching(q, k, exclude)
        return _result(ids, scores)

    def _disallow(self, exclude: np.ndarray) -> np.ndarray | None:
        """Clear the bits of ``exclude`` in the allowed-items bitmap (all set between calls).

        Two ways, by catalogue size: rebuilding the whole bitmap costs O(n_items) (2.7 µs at 3.7k
        items, 49 µs at 1M), clearing only the excluded bits a constant ~6 µs for a 166-item
        history (``ufunc.at``: two excluded items can share a byte). Returns the bytes to set
        back, or None when the whole bitmap was rebuilt."""
        ex = np.asarray(exclude, dtype=np.int64)
        if self.n_items < _SPARSE_EXCLUSION_ITEMS:
            allowed = np.ones(self.n_items, dtype=bool)
            allowed[ex] = False
            self._allowed_bits[:] = np.packbits(allowed, bitorder="little")  # bit i = item i
            return None
        byte = ex >> 3
        np.bitwise_and.at(
            self._allowed_bits, byte, ~np.left_shift(np.uint8(1), (ex & 7).astype(np.uint8))
        )
        return byte

    def _allow_all(self, cleared: np.ndarray | None) -> None:
        if cleared is None:
            self._allowed_bits[:] = _ALL_BITS
        else:
            self._allowed_bits[cleared] = _ALL_BITS

    def _search_over_fetching(self, q: np.ndarray, k: int, exclude: np.ndarray) -> SearchResult:
        fetch = min(self.n_items, k + len(exclude))
        scores, ids = self.search_batch(q, fetch)
        ids, scores = ids[0], scores[0]
        keep = (ids >= 0) & ~is_member(ids, exclude)
        return _result(ids[keep][:k], scores[keep][:k])


def _result(ids: np.ndarray, scores: np.ndarray) -> SearchResult:
    return SearchResult(ids.astype(np.int64, copy=False), scores.astype(np.float32, copy=False))


def is_member(ids: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Which ``ids`` are in ``excluded`` (bool, same shape as ``ids``), by a sorted search.

    Why not ``np.isin``: its general path (unique and argsort of both arrays) cost ~25 µs per
    request for the ~70 candidates of a known user with ~60 excluded items."""
    s = np.sort(excluded)
    pos = np.minimum(np.searchsorted(s, ids), len(s) - 1)
    return s[pos] == ids


def build_index(embeddings: np.ndarray, options: IndexOptions, *, threads: int = 1) -> ItemIndex:
    """Build the configured index over ``embeddings`` (float32 ``[n_items, dim]``)."""
    x = np.ascontiguousarray(embeddings, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] == 0:
        raise ValueError(
            f"item embeddings must be a non-empty [n_items, dim] matrix, got {x.shape}"
        )
    if not np.all(np.isfinite(x)):
        raise ValueError("item embeddings contain NaN or infinity")
    n, d = x.shape
    options = options.resolved(n)
    max_norm_sq = None
    if options.kind == "hnsw":
        norms_sq = (x.astype(np.float64) ** 2).sum(axis=1)
        max_norm_sq = float(norms_sq.max())
        extra = np.sqrt(np.maximum(max_norm_sq - norms_sq, 0.0)).astype(np.float32)
        x = np.ascontiguousarray(np.hstack([x, extra[:, None]]))
    faiss.omp_set_num_threads(max(1, threads))
    try:
        if options.kind == "flat":
            index: faiss.Index = faiss.IndexFlatIP(d)
        elif options.kind == "hnsw":
            index = faiss.IndexHNSWFlat(d + 1, options.hnsw_m, faiss.METRIC_L2)
            index.hnsw.efConstruction = options.hnsw_ef_construction
            index.hnsw.efSearch = options.hnsw_ef_search
        else:
            index = _new_ivf(x, options)
        index.add(x)
    finally:
        faiss.omp_set_num_threads(1)
    return ItemIndex(index, options, n, d, max_norm_sq)


def _new_ivf(x: np.ndarray, options: IndexOptions) -> faiss.Index:
    """A trained, empty IVF index over ``x``'s dimension (FAISS' factory string:
    ``IVF<nlist>[_HNSW32],<Flat|SQ8>``, wrapped in an exact re-rank for SQ8)."""
    n, d = x.shape
    nlist = min(options.ivf_nlist or max(1, int(4 * math.sqrt(n))), n)
    coarse = "_HNSW32" if options.ivf_quantizer == "hnsw" else ""
    codec = {"flat": "Flat", "sq8": "SQ8"}[options.ivf_codec]
    index = faiss.index_factory(d, f"IVF{nlist}{coarse},{codec}", faiss.METRIC_INNER_PRODUCT)
    ivf = faiss.extract_index_ivf(index)
    ivf.cp.seed = options.seed
    if options.ivf_quantizer == "hnsw":
        # k-means assigns with exact search over the centroids (BLAS), not through the graph
        # (rebuilt and searched at every iteration); the final centroids then fill the graph.
        ivf.clustering_index = faiss.IndexFlatIP(d)
    ivf.nprobe = options.ivf_nprobe
    # k-means needs ~40 points per list; more adds build time, not quality.
    sample = min(n, 64 * nlist)
    rng = np.random.default_rng(options.seed)
    index.train(x[np.sort(rng.choice(n, size=sample, replace=False))] if sample < n else x)
    if options.ivf_codec != "flat":
        # Candidates from the quantised lists, re-scored from the float32 vectors (which the
        # refine index keeps: add() stores them).
        index = faiss.IndexRefineFlat(index)
    return index
