"""The two-tower retrieval model: a query (user) tower and an item tower scored by inner product."""

from __future__ import annotations

from collections.abc import Sequence

import torch.nn.functional as F
from torch import Tensor, nn

from models.feature_batch import FeatureBatch
from models.spec import FieldSpec, TowerSpec
from models.tower import Tower


class TwoTower(nn.Module):
    """``score(u, i) = <user_embed(u), item_embed(i)>``; with ``spec.normalize`` both embeddings
    are L2-normalised and :meth:`logits` divides by ``spec.temperature`` (cosine / tau)."""

    def __init__(
        self, user_fields: Sequence[FieldSpec], item_fields: Sequence[FieldSpec], spec: TowerSpec
    ) -> None:
        super().__init__()
        self.spec = spec
        self.query_tower = Tower(user_fields, spec)
        self.item_tower = Tower(item_fields, spec)

    def init_embeddings(self, std: float) -> None:
        """Field embeddings of both towers from N(0, std²) (see FeatureInput.init_embeddings)."""
        self.query_tower.input.init_embeddings(std)
        self.item_tower.input.init_embeddings(std)

    @property
    def dim(self) -> int:
        return self.spec.dim

    def _finish(self, e: Tensor) -> Tensor:
        return F.normalize(e, dim=-1) if self.spec.normalize else e

    def user_embed(self, batch: FeatureBatch, mask: Tensor | None = None) -> Tensor:
        """``[B, dim]`` user embeddings."""
        return self._finish(self.query_tower(batch, mask))

    def item_embed(self, batch: FeatureBatch, mask: Tensor | None = None) -> Tensor:
        """``[B, dim]`` item embeddings; ``mask`` bool ``[B, F]`` / ``[F]`` masks item fields."""
        return self._finish(self.item_tower(batch, mask))

    def logits(self, u: Tensor, v: Tensor) -> Tensor:
        """``u [B, d]``, ``v [N, d]`` -> ``[B, N]`` = u @ v.T (/ temperature when normalised)."""
        s = u @ v.T
        return s / self.spec.temperature if self.spec.normalize else s
