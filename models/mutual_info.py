"""Mutual information between item feature fields, the correlation measure of SSL's CFM.

Computed once from the item catalogue, one row per item (not per interaction). For a pair of fields
(a, b) every item contributes the cross product of its a-values and b-values, each pair weighted
``1 / (n_a * n_b)``, so that every item carries total weight 1 whatever its number of values. An
empty row counts as the unknown value 0. The joint distribution is these weights over the
catalogue divided by the number of items, the marginals are its sums (equal to each field's values
weighted ``1 / n_a``), and

    MI(a, b) = sum_{x, y} P(x, y) * log( P(x, y) / (P(x) P(y)) )   in nats.

The diagonal is set to 0: a field's information with itself is its entropy, which says nothing
about which OTHER fields to mask with it.
"""

from __future__ import annotations

import numpy as np

from models.feature_table import CategoricalField, FeatureTable


def _with_unknown_for_empty(f: CategoricalField) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values [nnz'], offsets [N+1], lengths [N]) with every empty row replaced by ``[0]``."""
    lengths = f.lengths
    empty = lengths == 0
    if not empty.any():
        return f.values, f.offsets, lengths
    new_lengths = np.where(empty, 1, lengths)
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(new_lengths, out=offsets[1:])
    values = np.zeros(int(offsets[-1]), dtype=np.int64)  # empty rows keep their 0
    # destination of each original value: its row's new start + its rank within the row
    row_of = np.repeat(np.arange(len(lengths)), lengths)
    rank = np.arange(len(f.values)) - f.offsets[row_of]
    values[offsets[row_of] + rank] = f.values
    return values, offsets, new_lengths


def _marginal(values: np.ndarray, lengths: np.ndarray, vocab: int) -> np.ndarray:
    """P(x) for one field: each item's values weighted 1/n, over N items; float64 [vocab]."""
    w = np.repeat(1.0 / lengths, lengths)
    return np.bincount(values, weights=w, minlength=vocab) / len(lengths)


def _pair_mi(
    a: tuple[np.ndarray, np.ndarray, np.ndarray],
    b: tuple[np.ndarray, np.ndarray, np.ndarray],
    pa: np.ndarray,
    pb: np.ndarray,
) -> float:
    va, oa, la = a
    vb, ob, lb = b
    n_items = len(la)
    pairs = la * lb  # [N] value pairs per item
    item = np.repeat(np.arange(n_items), pairs)  # [M] item of each pair
    pair_start = np.zeros(n_items, dtype=np.int64)
    np.cumsum(pairs[:-1], out=pair_start[1:])
    local = np.arange(len(item)) - pair_start[item]  # [M] index of the pair within its item
    xa = va[oa[item] + local // lb[item]]
    xb = vb[ob[item] + local % lb[item]]
    w = 1.0 / pairs[item]
    # Joint codes may exceed memory as a dense table (id x title vocab), so count unique codes only.
    codes = xa * len(pb) + xb
    uniq, inverse = np.unique(codes, return_inverse=True)
    p = np.bincount(inverse, weights=w) / n_items  # [U] joint probability of each seen pair
    px = pa[uniq // len(pb)]
    py = pb[uniq % len(pb)]
    mi = float(np.sum(p * (np.log(p) - np.log(px) - np.log(py))))
    return max(mi, 0.0)  # clip round-off below zero


def mutual_information_table(table: FeatureTable) -> np.ndarray:
    """Symmetric float64 ``[F, F]`` MI matrix of the item table's fields (diagonal 0), in nats."""
    n = len(table.fields)
    out = np.zeros((n, n), dtype=np.float64)
    if table.n_rows == 0 or n < 2:
        return out
    dense = [_with_unknown_for_empty(f) for f in table.fields]
    marg = [
        _marginal(v, lengths, len(f.vocab))
        for (v, _, lengths), f in zip(dense, table.fields, strict=True)
    ]
    for i in range(n):
        for j in range(i + 1, n):
            out[i, j] = out[j, i] = _pair_mi(dense[i], dense[j], marg[i], marg[j])
    return out
