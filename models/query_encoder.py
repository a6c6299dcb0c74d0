"""The serving-side query model: turns a user (known by index, or by raw features) into the query
vector that is searched against a bundle's item index."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np
import torch
from torch import nn

from models.feature_batch import FeatureBatch, TensorTable, batch_from_table
from models.feature_table import FeatureTable
from models.kinds import get_kind
from models.spec import TowerSpec


class QueryEncoder:
    """Query vectors ``float32 [B, index_dim]`` for a bundle's model (eval mode, CPU).

    The kind's ``query_vectors`` (models/kinds.py): for a kind without λ_p the user tower's
    embedding (``lambda_p`` is ignored); for one with λ_p (MIRec) the query at ``lambda_p``
    (default: the bundle's tuned value), which against the ``[i*, F_i(i)]`` index gives the
    paper's blended score.
    """

    def __init__(
        self,
        model: nn.Module,
        kind: str,
        user_table: FeatureTable,
        user_ids: Sequence[str],
        lambda_p: float | None,
    ) -> None:
        try:
            ks = get_kind(kind)
        except ValueError as e:
            raise ValueError(f"QueryEncoder: {e}") from None
        if not isinstance(model, ks.model_cls):
            raise TypeError(
                f"QueryEncoder: kind {kind!r} needs a {ks.model_cls.__name__}, got {type(model)}"
            )
        if ks.has_lambda_p and lambda_p is None:
            raise ValueError(f"QueryEncoder: a {kind} model needs a default lambda_p")
        if len(user_ids) != user_table.n_rows:
            raise ValueError(
                f"QueryEncoder: {len(user_ids)} user ids for {user_table.n_rows} feature rows"
            )
        self.model = model.eval()
        self.kind = kind
        self._kind = ks
        self.lambda_p = lambda_p
        self.user_table = user_table
        self._users = TensorTable.from_table(user_table)
        self._user_index = {u: i for i, u in enumerate(user_ids)}
        # Every kind's model class carries its TowerSpec as ``.spec`` (nn.Module's typing hides it).
        self.index_dim = ks.index_dim(cast(TowerSpec, model.spec))

    @property
    def n_users(self) -> int:
        return self._users.n_rows

    def user_index(self, user_id: str) -> int | None:
        """Row of a known user id, or None for a user the bundle has never seen."""
        return self._user_index.get(user_id)

    def encode(self, user_batch: FeatureBatch, lambda_p: float | None = None) -> np.ndarray:
        """``float32 [B, index_dim]`` query vectors of a user feature batch."""
        with torch.inference_mode():
            lam: float | None = None
            if self._kind.has_lambda_p:
                lam = self.lambda_p if lambda_p is None else float(lambda_p)
                assert lam is not None
                if not 0.0 <= lam <= 1.0:  # also rejects NaN
                    raise ValueError(f"lambda_p must be in [0, 1], got {lam}")
            out = self._kind.query_vectors(self.model, user_batch, lam)
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
