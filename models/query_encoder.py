"""The serving-side query model: turns a user (known by index, or by raw features) into the query
vector that is searched against a bundle's item index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from models.feature_batch import FeatureBatch, TensorTable, batch_from_table
from models.feature_table import FeatureTable
from models.mirec import MIRec
from models.two_tower import TwoTower

if TYPE_CHECKING:
    from models.bundle import Bundle


class QueryEncoder:
    """Query vectors ``float32 [B, index_dim]`` for a bundle's model (eval mode, CPU).

    ``two_tower`` / ``ssl``: the user tower's embedding (``lambda_p`` is ignored).
    ``mirec``: ``MIRec.query_vectors`` at ``lambda_p`` (default: the bundle's tuned value), which
    against the ``[i*, F_i(i)]`` index gives the paper's blended score.
    """

    def __init__(
        self,
        model: nn.Module,
        kind: str,
        user_table: FeatureTable,
        user_ids: Sequence[str],
        lambda_p: float | None,
    ) -> None:
        if kind == "mirec":
            if not isinstance(model, MIRec):
                raise TypeError(f"QueryEncoder: kind 'mirec' needs a MIRec, got {type(model)}")
            if lambda_p is None:
                raise ValueError("QueryEncoder: a mirec model needs a default lambda_p")
        elif kind in ("two_tower", "ssl"):
            if not isinstance(model, TwoTower):
                raise TypeError(f"QueryEncoder: kind {kind!r} needs a TwoTower, got {type(model)}")
        else:
            raise ValueError(f"QueryEncoder: unknown kind {kind!r}")
        if len(user_ids) != user_table.n_rows:
            raise ValueError(
                f"QueryEncoder: {len(user_ids)} user ids for {user_table.n_rows} feature rows"
            )
        self.model = model.eval()
        self.kind = kind
        self.lambda_p = lambda_p
        self.user_table = user_table
        self._users = TensorTable.from_table(user_table)
        self._user_index = {u: i for i, u in enumerate(user_ids)}
        self.index_dim = model.index_dim if isinstance(model, MIRec) else model.dim

    @staticmethod
    def from_bundle(bundle: Bundle) -> QueryEncoder:
        return bundle.query_encoder()

    @property
    def n_users(self) -> int:
        return self._users.n_rows

    def user_index(self, user_id: str) -> int | None:
        """Row of a known user id, or None for a user the bundle has never seen."""
        return self._user_index.get(user_id)

    def encode(self, user_batch: FeatureBatch, lambda_p: float | None = None) -> np.ndarray:
        """``float32 [B, index_dim]`` query vectors of a user feature batch."""
        with torch.inference_mode():
            if isinstance(self.model, MIRec):
                lam = self.lambda_p if lambda_p is None else float(lambda_p)
                assert lam is not None
                if not 0.0 <= lam <= 1.0:  # also rejects NaN
                    raise ValueError(f"lambda_p must be in [0, 1], got {lam}")
                out = self.model.query_vectors(user_batch, lam)
            else:
                assert isinstance(self.model, TwoTower)
                out = self.model.user_embed(user_batch)
        return out.to(torch.float32).cpu().numpy()

    def encode_known(self, user_idx: np.ndarray, lambda_p: float | None = None) -> np.ndarray:
        """Query vectors of known users by row index (int64 ``[B]``)."""
        idx = np.asarray(user_idx)
        if idx.ndim != 1 or not np.issubdtype(idx.dtype, np.integer):
            raise ValueError(
                f"encode_known: user_idx must be a 1-D integer array, got {idx.dtype}{idx.shape}"
            )
        return self.encode(self._users.gather(torch.as_tensor(idx, dtype=torch.int64)), lambda_p)

    def encode_features(
        self, raw: Mapping[str, str | list[str]], lambda_p: float | None = None
    ) -> np.ndarray:
        """``float32 [1, index_dim]`` for one user given raw feature values (cold start).

        Unknown values (including an unseen ``user_id``) map to index 0 and so to the field's
        default embedding; a missing field is treated as unknown / empty. Raises KeyError naming
        any field the model does not have.
        """
        row = self.user_table.encode_row(raw)
        return self.encode(batch_from_table(row), lambda_p)
