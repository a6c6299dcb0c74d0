"""Dense re-indexing of raw ids and assembly of feature tables aligned with that index.

Users and items get indices 0..n-1 in the order they are first seen in the interactions, so the
index is stable for a given file and independent of how ids sort. Feature files are keyed by raw
id; ``align`` picks one feature row per indexed id (``None`` where a file has no row for it, which
becomes the unknown value / an empty bag).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

import numpy as np

from models.feature_table import UNKNOWN, CategoricalField, FeatureTable

T = TypeVar("T")


def first_seen_index(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Densely index ``raw`` (any sortable 1-D array, e.g. int64 or str) in first-seen order.

    Returns ``(codes, uniques)``: ``codes`` int64 ``[len(raw)]`` with ``uniques[codes] == raw``,
    ``uniques`` ``[n_unique]`` ordered by first appearance in ``raw``.
    """
    if raw.ndim != 1:
        raise ValueError(f"expected a 1-D array of ids, got shape {raw.shape}")
    uniq, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
    order = np.argsort(first, kind="stable")  # sorted-unique positions in first-seen order
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank[inverse.reshape(-1)], uniq[order]


def id_strings(uniques: np.ndarray) -> tuple[str, ...]:
    """Original ids as strings (``1193`` -> ``"1193"``; strings unchanged)."""
    return tuple(str(v) for v in uniques.tolist())


def id_field(name: str, ids: Sequence[str]) -> CategoricalField:
    """The id itself as a single-valued feature: row ``r`` holds vocabulary index ``r + 1``.

    The vocabulary is the ids in index order (not sorted), so ``vocab[r + 1] == ids[r]``.
    """
    if UNKNOWN in ids:
        raise ValueError(f"field {name!r}: an id may not be the reserved value {UNKNOWN!r}")
    n = len(ids)
    return CategoricalField(
        name=name,
        vocab=(UNKNOWN, *ids),
        multi=False,
        values=np.arange(1, n + 1, dtype=np.int64),
        offsets=np.arange(n + 1, dtype=np.int64),
    )


def codes_field(name: str, codes: np.ndarray, labels: Sequence[str]) -> CategoricalField:
    """A single-valued field from integer codes (int ``[n_rows]``, -1 = unknown) into ``labels``.

    Vectorised (no per-row Python work), for the synthetic generator's million-item catalogue.
    """
    codes = np.asarray(codes, dtype=np.int64)
    return CategoricalField(
        name=name,
        vocab=(UNKNOWN, *labels),
        multi=False,
        values=np.where(codes >= 0, codes + 1, 0).astype(np.int64),
        offsets=np.arange(len(codes) + 1, dtype=np.int64),
    )


def multi_codes_field(name: str, codes: np.ndarray, labels: Sequence[str]) -> CategoricalField:
    """A multi-valued field from a code matrix (int ``[n_rows, width]``, -1 = no value).

    Each row keeps its codes >= 0 in column order; duplicates within a row are kept once.
    """
    codes = np.asarray(codes, dtype=np.int64)
    n_rows, width = codes.shape
    keep = codes >= 0
    if width > 1:
        # Drop a code equal to any earlier code of the same row: [n_rows, width, width] is small
        # because width is a handful of values.
        same = codes[:, :, None] == codes[:, None, :]
        earlier = np.tril(np.ones((width, width), dtype=bool), k=-1)
        keep &= ~np.any(same & earlier[None, :, :], axis=2)
    lengths = keep.sum(axis=1).astype(np.int64)
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    return CategoricalField(
        name=name,
        vocab=(UNKNOWN, *labels),
        multi=True,
        values=(codes[keep] + 1).astype(np.int64),  # row-major order keeps rows contiguous
        offsets=offsets,
    )


def align(ids: Sequence[str], rows: Mapping[str, T]) -> list[T | None]:
    """``rows[id]`` for each id in index order; ``None`` where the mapping has no entry."""
    return [rows.get(i) for i in ids]


def single_field(name: str, raw: Sequence[str | None]) -> CategoricalField:
    """A single-valued field from one raw value per row (``None``, '' and ``<unk>`` -> unknown).

    Same result as ``CategoricalField.from_single`` (sorted vocabulary), but the lookup is one
    ``np.unique`` instead of a dict per row: Book-Crossing has ~300k items and users.
    """
    arr = np.array([v if v and v != UNKNOWN else "" for v in raw], dtype=str)  # [n_rows]
    if len(arr) == 0:
        return CategoricalField.from_single(name, [])
    uniq, inverse = np.unique(arr, return_inverse=True)
    has_empty = uniq[0] == ""  # "" sorts first: it is the unknown value
    vocab = uniq[1:] if has_empty else uniq
    values = inverse.reshape(-1).astype(np.int64) + (0 if has_empty else 1)
    return CategoricalField(
        name=name,
        vocab=(UNKNOWN, *vocab.tolist()),
        multi=False,
        values=values,
        offsets=np.arange(len(arr) + 1, dtype=np.int64),
    )


def multi_field(name: str, raw: Sequence[Sequence[str]]) -> CategoricalField:
    """A multi-valued field from raw values per row (empty rows allowed; '' and ``<unk>``
    dropped). Same result as ``CategoricalField.from_multi``, vectorised like ``single_field``."""
    kept = [[v for v in row if v and v != UNKNOWN] for row in raw]
    lengths = np.fromiter((len(row) for row in kept), np.int64, len(kept))
    offsets = np.zeros(len(kept) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    flat = np.array([v for row in kept for v in row], dtype=str)  # [nnz]
    if len(flat) == 0:
        return CategoricalField(name, (UNKNOWN,), True, np.zeros(0, np.int64), offsets)
    uniq, inverse = np.unique(flat, return_inverse=True)
    return CategoricalField(
        name=name,
        vocab=(UNKNOWN, *uniq.tolist()),
        multi=True,
        values=inverse.reshape(-1).astype(np.int64) + 1,
        offsets=offsets,
    )


def single_from_rows(
    name: str, rows: Sequence[T | None], get: Callable[[T], str | None]
) -> CategoricalField:
    """A single-valued field from aligned rows (``None`` row or value -> unknown)."""
    return single_field(name, [get(r) if r is not None else None for r in rows])


def multi_from_rows(
    name: str, rows: Sequence[T | None], get: Callable[[T], Sequence[str]]
) -> CategoricalField:
    """A multi-valued field from aligned rows (``None`` row -> empty bag)."""
    return multi_field(name, [get(r) if r is not None else () for r in rows])


def table(*fields: CategoricalField) -> FeatureTable:
    return FeatureTable(tuple(fields))
