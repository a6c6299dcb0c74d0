"""MIRec (Zhang et al., WWW 2021): a many-shot and a few-shot two-tower model plus meta-learners,
served as one inner-product search.

Serving score (paper Eq. 9): ``s(u, i) = lp * <u*, i*> + (1 - lp) * <F_u(u), F_i(i)>`` where u*, i*
come from the many-shot model and u, i from the few-shot model. Indexing items as ``[i*, F_i(i)]``
(``[N, 2d]``) and querying with ``[lp * u*, (1 - lp) * F_u(u)]`` (``[B, 2d]``) gives exactly this
score, so ``lp`` (lambda_p) can change per request without rebuilding the index.

The blend uses raw inner products of the tower outputs, which are L2-normalised when
``spec.normalize`` (the towers do that themselves). The training temperature would only multiply
every score by the same constant and does not change any ranking, so it is left out here.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor, nn

from models.feature_batch import FeatureBatch
from models.meta import MetaKind, MetaLearner
from models.spec import FieldSpec, TowerSpec
from models.two_tower import TwoTower


class MIRec(nn.Module):
    def __init__(
        self,
        user_fields: Sequence[FieldSpec],
        item_fields: Sequence[FieldSpec],
        spec: TowerSpec,
        meta_kind: MetaKind = "residual",
        meta_hidden: int | None = None,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.meta_kind: MetaKind = meta_kind
        self.meta_hidden = meta_hidden
        self.many_shot = TwoTower(user_fields, item_fields, spec)  # theta*
        self.few_shot = TwoTower(user_fields, item_fields, spec)  # theta
        self.f_user = MetaLearner(spec.dim, meta_hidden, meta_kind)
        self.f_item = MetaLearner(spec.dim, meta_hidden, meta_kind)

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def index_dim(self) -> int:
        return 2 * self.spec.dim

    def meta_user_embed(self, batch: FeatureBatch, mask: Tensor | None = None) -> Tensor:
        """``F_u(u)`` for the few-shot user embeddings, ``[B, d]``."""
        return self.f_user(self.few_shot.user_embed(batch, mask))

    def meta_item_embed(self, batch: FeatureBatch, mask: Tensor | None = None) -> Tensor:
        """``F_i(i)`` for the few-shot item embeddings, ``[N, d]``."""
        return self.f_item(self.few_shot.item_embed(batch, mask))

    def item_index_vectors(self, item_batch: FeatureBatch) -> Tensor:
        """``[N, 2d]`` = concat(i*, F_i(i)): what goes into the item index."""
        return torch.cat(
            [self.many_shot.item_embed(item_batch), self.meta_item_embed(item_batch)], dim=1
        )

    @staticmethod
    def _lambda(lambda_p: float | Tensor, b: int, like: Tensor) -> Tensor:
        """lambda_p as a ``[B, 1]`` (or scalar) tensor broadcastable over ``[B, d]``."""
        if isinstance(lambda_p, Tensor):
            if lambda_p.dim() == 0:
                return lambda_p.to(like)
            if lambda_p.shape != (b,):
                raise ValueError(
                    f"lambda_p must be a float or a [B={b}] tensor, got {tuple(lambda_p.shape)}"
                )
            return lambda_p.to(like).unsqueeze(1)
        return torch.tensor(float(lambda_p), dtype=like.dtype, device=like.device)

    def query_vectors(self, user_batch: FeatureBatch, lambda_p: float | Tensor) -> Tensor:
        """``[B, 2d]`` = concat(lp * u*, (1 - lp) * F_u(u)); ``lambda_p`` float or ``[B]``."""
        u_star = self.many_shot.user_embed(user_batch)  # [B, d]
        u_meta = self.meta_user_embed(user_batch)  # [B, d]
        lam = self._lambda(lambda_p, u_star.shape[0], u_star)
        return torch.cat([lam * u_star, (1 - lam) * u_meta], dim=1)

    def blend_scores(
        self, user_batch: FeatureBatch, item_batch: FeatureBatch, lambda_p: float | Tensor
    ) -> Tensor:
        """``[B, N]`` scores of paper Eq. 9, computed directly from the two models' inner
        products (the reference that the index/query vectors must reproduce)."""
        u_star = self.many_shot.user_embed(user_batch)
        i_star = self.many_shot.item_embed(item_batch)
        u_meta = self.meta_user_embed(user_batch)
        i_meta = self.meta_item_embed(item_batch)
        lam = self._lambda(lambda_p, u_star.shape[0], u_star)
        return lam * (u_star @ i_star.T) + (1 - lam) * (u_meta @ i_meta.T)
