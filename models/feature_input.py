"""The input layer of a tower: one mean EmbeddingBag per categorical field, concatenated.

Every field has ONE learned default embedding. It stands in for the field of a row when
  * the row's bag is empty (a multi-valued field with no values, e.g. after value dropout),
  * the row holds only vocabulary index 0 (``<unk>``: an unseen value, e.g. a cold-start user's id),
  * the caller masks the field (SSL feature masking, feature dropout).
Index 0 is the EmbeddingBag's ``padding_idx``, so it is also left out of the mean of a bag that has
known values too: an unknown title token does not dilute the known ones.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from models.feature_batch import FeatureBatch
from models.spec import FieldSpec


class FeatureInput(nn.Module):
    """Embeds a :data:`FeatureBatch` to ``[B, n_fields * field_dim]`` (fields in spec order)."""

    def __init__(self, fields: Sequence[FieldSpec], field_dim: int) -> None:
        super().__init__()
        if not fields:
            raise ValueError("FeatureInput needs at least one field")
        names = [f.name for f in fields]
        if len(set(names)) != len(names):
            raise ValueError(f"FeatureInput: duplicate field names {names}")
        self.fields: tuple[FieldSpec, ...] = tuple(fields)
        self.field_dim = field_dim
        # ModuleDict keys are the field names (state-dict keys "bags.<name>.weight").
        self.bags = nn.ModuleDict(
            {
                f.name: nn.EmbeddingBag(
                    f.vocab_size, field_dim, mode="mean", padding_idx=0, include_last_offset=True
                )
                for f in fields
            }
        )
        # [n_fields, field_dim]; same N(0, 1) scale as the (PyTorch-default) bag weights.
        self.default = nn.Parameter(torch.randn(len(fields), field_dim))

    def init_embeddings(self, std: float) -> None:
        """Re-draw every field embedding and default from N(0, std²) (the padding row stays 0).

        PyTorch's N(0, 1) gives an ids-only dot-product model logits of std ~ field_dim**0.5 at
        step 0, which a 1e-3 Adam needs many epochs to undo; std 0.01 starts it near uniform.
        """
        with torch.no_grad():
            for bag in self.bags.values():
                weight = bag.weight  # [vocab_size, field_dim]
                assert isinstance(weight, Tensor)
                nn.init.normal_(weight, std=std)
                weight[0].zero_()
            nn.init.normal_(self.default, std=std)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def n_fields(self) -> int:
        return len(self.fields)

    @property
    def out_dim(self) -> int:
        return len(self.fields) * self.field_dim

    def forward(self, batch: FeatureBatch, mask: Tensor | None = None) -> Tensor:
        """``mask``: bool ``[B, n_fields]`` or ``[n_fields]`` (True = use the default), or None."""
        missing = [n for n in self.field_names if n not in batch]
        if missing:
            raise KeyError(
                f"feature batch lacks field(s) {missing}; the model embeds {list(self.field_names)}"
            )
        pooled: list[Tensor] = []  # n_fields x [B, field_dim]
        use_default: list[Tensor] = []  # n_fields x [B] bool
        batch_size: int | None = None
        for f in self.fields:
            fb = batch[f.name]
            b = fb.batch_size
            if batch_size is None:
                batch_size = b
            elif b != batch_size:
                raise ValueError(
                    f"field {f.name!r} has {b} rows, earlier fields have {batch_size}"
                )
            pooled.append(self.bags[f.name](fb.values, fb.offsets))
            # Known (non-zero) values per row via a cumulative count: [B]
            known = torch.zeros(fb.values.shape[0] + 1, dtype=torch.int64, device=fb.values.device)
            torch.cumsum(fb.values != 0, 0, out=known[1:])
            use_default.append(known[fb.offsets[1:]] == known[fb.offsets[:-1]])
        assert batch_size is not None
        emb = torch.stack(pooled, dim=1)  # [B, F, field_dim]
        cond = torch.stack(use_default, dim=1)  # [B, F]
        if mask is not None:
            if mask.dtype != torch.bool:
                raise TypeError(f"mask must be a bool tensor, got {mask.dtype}")
            if mask.shape not in ((batch_size, self.n_fields), (self.n_fields,)):
                raise ValueError(
                    f"mask shape {tuple(mask.shape)} must be [B={batch_size}, "
                    f"n_fields={self.n_fields}] or [n_fields]"
                )
            cond = cond | mask.to(cond.device)
        out = torch.where(cond.unsqueeze(-1), self.default.unsqueeze(0), emb)  # [B, F, field_dim]
        return out.reshape(batch_size, self.out_dim)
