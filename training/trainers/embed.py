"""Embedding whole tables through a tower in inference mode (evaluation and export)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from models.feature_batch import FeatureBatch, TensorTable


@torch.no_grad()
def embed_table(
    fn: Callable[[FeatureBatch], torch.Tensor], table: TensorTable, batch_size: int = 8192
) -> np.ndarray:
    """Run ``fn`` over every row of ``table``; returns float32 ``[n_rows, out_dim]``."""
    out = []
    for s in range(0, table.n_rows, batch_size):
        rows = torch.arange(s, min(table.n_rows, s + batch_size))
        out.append(fn(table.gather(rows)).float().cpu())
    return torch.cat(out, dim=0).numpy()
