"""One tower of a two-tower model: feature input layer followed by an MLP."""

from __future__ import annotations

from collections.abc import Sequence

from torch import Tensor, nn

from models.feature_batch import FeatureBatch
from models.feature_input import FeatureInput
from models.spec import FieldSpec, TowerSpec


def _mlp(in_dim: int, hidden: Sequence[int]) -> nn.Sequential:
    """Linear layers of sizes ``hidden`` with ReLU between them and no activation after the last
    (the output is an embedding, compared by inner product); no ``hidden`` is the identity (the
    concatenated field embeddings are the embedding: a matrix factorisation with ids only)."""
    layers: list[nn.Module] = []
    prev = in_dim
    for i, h in enumerate(hidden):
        layers.append(nn.Linear(prev, h))
        if i < len(hidden) - 1:
            layers.append(nn.ReLU())
        prev = h
    return nn.Sequential(*layers)


class Tower(nn.Module):
    """Feature batch ``[B rows]`` -> embedding ``[B, spec.dim]`` (not normalised here)."""

    def __init__(self, fields: Sequence[FieldSpec], spec: TowerSpec) -> None:
        super().__init__()
        self.spec = spec
        self.input = FeatureInput(fields, spec.field_dim)
        if not spec.hidden and self.input.out_dim != spec.dim:
            raise ValueError(
                f"a tower without hidden layers outputs its {self.input.n_fields} field(s) x "
                f"field_dim {spec.field_dim} = {self.input.out_dim} values, not dim {spec.dim}"
            )
        self.mlp = _mlp(self.input.out_dim, spec.hidden)

    @property
    def field_names(self) -> tuple[str, ...]:
        return self.input.field_names

    def forward(self, batch: FeatureBatch, mask: Tensor | None = None) -> Tensor:
        return self.mlp(self.input(batch, mask))
