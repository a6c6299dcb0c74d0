"""Item-feature augmentations for SSL (and the FD baseline), as pure functions.

Every function takes an explicit ``torch.Generator`` so that a run is reproducible from its seed.
Masks are bool with True = "replace this field by its learned default embedding" (the convention
of :class:`~models.feature_input.FeatureInput`).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

import numpy as np
import torch
from torch import Tensor

from models.feature_batch import FeatureBatch, FieldBatch


def _check_rate(name: str, rate: float) -> None:
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name}: rate must be in [0, 1], got {rate}")


def _drop_values(fb: FieldBatch, rate: float, generator: torch.Generator) -> FieldBatch:
    """Keep each value with probability 1 - rate; rebuild offsets from per-row kept counts."""
    values, offsets = fb.values, fb.offsets
    # drawn on the generator's device (a CPU generator may drive a CUDA batch), then moved
    draws = torch.rand(values.shape[0], generator=generator, device=generator.device)
    keep = draws.to(values.device) >= rate  # [nnz]
    b = offsets.shape[0] - 1
    lengths = offsets[1:] - offsets[:-1]  # [B]
    # [nnz], the row each value belongs to
    row_of = torch.repeat_interleave(
        torch.arange(b, device=values.device), lengths, output_size=values.shape[0]
    )
    kept_per_row = torch.bincount(row_of[keep], minlength=b)  # [B]
    new_offsets = torch.zeros(b + 1, dtype=torch.int64, device=values.device)
    torch.cumsum(kept_per_row, 0, out=new_offsets[1:])
    return FieldBatch(values[keep], new_offsets)


def value_dropout(
    batch: FeatureBatch, rate: float, generator: torch.Generator, multi_fields: Collection[str]
) -> FeatureBatch:
    """Drop each value of each multi-valued field in ``multi_fields`` with probability ``rate``.

    Other fields are passed through untouched (same objects). A row may lose all its values; its
    bag is then empty and the model uses the field's default embedding. Fields are processed in
    the batch's order, so the random stream is reproducible.
    """
    _check_rate("value_dropout", rate)
    unknown = set(multi_fields) - set(batch)
    if unknown:
        raise KeyError(f"value_dropout: field(s) {sorted(unknown)} not in the batch {list(batch)}")
    if rate == 0.0:
        return dict(batch)
    return {
        name: _drop_values(fb, rate, generator) if name in multi_fields else fb
        for name, fb in batch.items()
    }


def rfm_masks(n_fields: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """Random feature masking: two complementary bool masks ``[n_fields]``.

    View 1 masks a uniformly random subset of ``floor(n_fields / 2)`` fields (a random
    permutation's first half), view 2 masks the rest, so each side is non-empty when
    ``n_fields >= 2`` and the split is as balanced as CFM's. Drawn once per batch.
    """
    if n_fields < 1:
        raise ValueError(f"rfm_masks: n_fields must be >= 1, got {n_fields}")
    perm = torch.randperm(n_fields, generator=generator, device=generator.device)
    m1 = torch.zeros(n_fields, dtype=torch.bool, device=generator.device)
    m1[perm[: n_fields // 2]] = True
    return m1, ~m1


def cfm_group_size(n_fields: int, group: Literal["paper", "half"]) -> int:
    """How many fields view 1 masks.

    ``paper``: the seed plus its ``floor(F / 2)`` most correlated fields, i.e. ``1 + F // 2``,
    capped at ``F - 1`` so that view 2 still masks something (only binding for F = 2). ``half``:
    ``F // 2`` fields including the seed (at least 1). With F = 1 the single field is masked.
    """
    if group == "paper":
        size = 1 + n_fields // 2
        return min(size, n_fields - 1) if n_fields >= 2 else 1
    if group == "half":
        return max(1, n_fields // 2)
    raise ValueError(f"cfm_masks: group must be 'paper' or 'half', got {group!r}")


def cfm_group(mi: np.ndarray, seed: int, group: Literal["paper", "half"]) -> np.ndarray:
    """The fields view 1 masks for seed field ``seed``: the seed and its most correlated other
    fields by ``mi [F, F]`` (:func:`cfm_group_size` fields in all; ties broken by field order).
    Returns sorted int64 field indices."""
    n = mi.shape[0]
    if not 0 <= seed < n:
        raise ValueError(f"cfm_group: seed {seed} out of range [0, {n})")
    size = cfm_group_size(n, group)
    others = np.array([j for j in range(n) if j != seed], dtype=np.int64)
    # stable sort on -MI: most correlated first, ties by field index
    ranked = others[np.argsort(-mi[seed, others], kind="stable")]
    return np.sort(np.concatenate([[seed], ranked[: size - 1]]).astype(np.int64))


def cfm_masks(
    mi: Tensor | np.ndarray, group: Literal["paper", "half"], generator: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Correlated feature masking: two complementary bool masks ``[F]``.

    ``mi``: ``[F, F]`` mutual information between item fields (see
    :func:`models.mutual_info.mutual_information_table`). A seed field is drawn uniformly (once per
    batch); view 1 masks :func:`cfm_group` of it, view 2 the complement. Masks are on the
    generator's device.
    """
    mi_np = mi.detach().cpu().numpy() if isinstance(mi, Tensor) else np.asarray(mi)
    if mi_np.ndim != 2 or mi_np.shape[0] != mi_np.shape[1] or mi_np.shape[0] < 1:
        raise ValueError(f"cfm_masks: mi must be a square [F, F] matrix, got {mi_np.shape}")
    n = mi_np.shape[0]
    cfm_group_size(n, group)  # validate group before drawing
    seed = int(torch.randint(n, (1,), generator=generator, device=generator.device).item())
    chosen = cfm_group(mi_np, seed, group)
    m1 = torch.zeros(n, dtype=torch.bool, device=generator.device)
    m1[torch.as_tensor(chosen, device=generator.device)] = True
    return m1, ~m1


def feature_dropout_mask(
    batch_size: int, n_fields: int, rate: float, generator: torch.Generator
) -> Tensor:
    """The FD baseline's mask ``[batch_size, n_fields]``: each field of each row is replaced by its
    default embedding independently with probability ``rate`` (applied to the main task's item
    tower, no SSL loss). Rows are not forced to keep a field: at rate r a row loses every field with
    probability r**n_fields. On the generator's device."""
    _check_rate("feature_dropout_mask", rate)
    return torch.rand(batch_size, n_fields, generator=generator, device=generator.device) < rate
