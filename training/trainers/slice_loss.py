"""Per-slice (all / head / tail item) recommendation loss, for MIRec's curriculum loss curves."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from models.feature_batch import FeatureBatch, TensorTable
from models.losses import batch_softmax_loss_per_row

EmbedFn = Callable[[FeatureBatch], torch.Tensor]


@torch.no_grad()
def slice_losses(
    user_fn: EmbedFn,
    item_fn: EmbedFn,
    users: np.ndarray,
    items: np.ndarray,
    user_table: TensorTable,
    item_table: TensorTable,
    is_tail: np.ndarray,
    *,
    batch_size: int,
    temperature: float,
) -> dict[str, float]:
    """Mean in-batch softmax loss of (user, item) pairs, on all pairs and split by the item's slice.

    Pairs are taken in the given order in batches of ``batch_size`` (in-batch negatives, no logQ),
    so values are comparable across epochs and phases when the same pairs are passed.
    """
    per_row: list[torch.Tensor] = []
    for s in range(0, len(users), batch_size):
        u_idx = torch.from_numpy(users[s : s + batch_size])
        i_idx = torch.from_numpy(items[s : s + batch_size])
        if len(u_idx) < 2:
            continue
        u = user_fn(user_table.gather(u_idx))
        v = item_fn(item_table.gather(i_idx))
        per_row.append(batch_softmax_loss_per_row(u, v, i_idx, temperature=temperature).cpu())
    if not per_row:
        return {"all": float("nan"), "head": float("nan"), "tail": float("nan")}
    loss = torch.cat(per_row).numpy()
    tail = is_tail[items[: len(loss)]]
    out = {"all": float(loss.mean())}
    out["head"] = float(loss[~tail].mean()) if (~tail).any() else float("nan")
    out["tail"] = float(loss[tail].mean()) if tail.any() else float("nan")
    return out
