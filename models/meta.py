"""MIRec's meta-learner F(.; w): maps few-shot output embeddings towards the many-shot model's."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

MetaKind = Literal["residual", "identity"]


class MetaLearner(nn.Module):
    """``residual``: ``F(e) = e + W2 relu(W1 e + b1) + b2`` with one hidden layer of width
    ``hidden`` (default ``dim``); ``identity``: ``F(e) = e`` with no parameters (the "curriculum
    without meta-learning" ablation).

    The residual branch's output layer starts at zero, so F starts as the identity: with the
    few-shot model initialised from the many-shot one, F(theta) = theta* at step 0 and the MSE term
    starts at 0 instead of at random noise.
    """

    def __init__(self, dim: int, hidden: int | None = None, kind: MetaKind = "residual") -> None:
        super().__init__()
        if kind not in ("residual", "identity"):
            raise ValueError(f"MetaLearner: kind must be 'residual' or 'identity', got {kind!r}")
        if dim <= 0:
            raise ValueError(f"MetaLearner: dim must be positive, got {dim}")
        self.dim = dim
        self.kind: MetaKind = kind
        self.hidden = dim if hidden is None else hidden
        if self.hidden <= 0:
            raise ValueError(f"MetaLearner: hidden must be positive, got {self.hidden}")
        self.mlp: nn.Sequential | None = None
        if kind == "residual":
            # Created in this order (first, then last) so the initial weights are as before.
            first, last = nn.Linear(dim, self.hidden), nn.Linear(self.hidden, dim)
            with torch.no_grad():
                last.weight.zero_()
                last.bias.zero_()
            self.mlp = nn.Sequential(first, nn.ReLU(), last)

    def forward(self, e: Tensor) -> Tensor:
        """``e [B, dim]`` -> ``[B, dim]``."""
        if e.shape[-1] != self.dim:
            raise ValueError(f"MetaLearner: expected [..., {self.dim}], got {tuple(e.shape)}")
        if self.mlp is None:
            return e
        return e + self.mlp(e)
