"""Vectorised batch assembly: seeded epoch permutations and row slices of CSR feature batches."""

from __future__ import annotations

from collections.abc import Iterator

import torch

from models.feature_batch import FeatureBatch, FieldBatch


def epoch_batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Shuffled index batches ``[batch_size]`` over ``n`` rows; the incomplete remainder is dropped
    (a different remainder every epoch), so every step sees a full batch of in-batch negatives and
    a global batch splits evenly over data-parallel ranks."""
    perm = torch.randperm(n, generator=generator)
    for s in range(0, n - batch_size + 1, batch_size):
        yield perm[s : s + batch_size]


def slice_rows(batch: FeatureBatch, rows: slice) -> FeatureBatch:
    """Rows ``rows.start:rows.stop`` of a CSR feature batch (offsets rebased to 0)."""
    out: FeatureBatch = {}
    for name, fb in batch.items():
        offs = fb.offsets[rows.start : rows.stop + 1]
        out[name] = FieldBatch(values=fb.values[offs[0] : offs[-1]], offsets=offs - offs[0])
    return out
