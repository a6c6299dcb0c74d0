"""A loaded, verified bundle (``load_bundle``'s result): arrays, tables, and the model rebuilt
from the weights file on demand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.torch import load_file
from torch import nn

from models.bundle.layout import WEIGHTS, BundleError, sha256_file
from models.feature_table import FeatureTable
from models.kinds import get_kind
from models.query_encoder import QueryEncoder
from models.spec import TowerSpec, field_specs


@dataclass(frozen=True, eq=False)
class Bundle:
    """A loaded, verified bundle. Arrays are read-only."""

    path: Path
    manifest: dict[str, Any]
    kind: str
    spec: TowerSpec
    item_ids: tuple[str, ...]
    embeddings: np.ndarray  # float32 [n_items, index_dim]
    train_counts: np.ndarray  # int64 [n_items]
    is_tail: np.ndarray  # bool [n_items]
    user_table: FeatureTable
    item_table: FeatureTable
    user_ids: tuple[str, ...]
    lambda_p: float | None
    # Each known user's training items as CSR (indptr int64 [n_users + 1], items int64 [nnz]);
    # None for bundles written without it.
    user_history: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def model_version(self) -> str:
        """``{kind}-{first 12 hex of the weights' sha256}``: changes whenever the weights do."""
        return f"{self.kind}-{self.manifest['files'][WEIGHTS][:12]}"

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def index_dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def _error(self, file: str, msg: str) -> BundleError:
        return BundleError(f"bundle {self.path}: {file}: {msg}")

    def build_model(self) -> nn.Module:
        """The TwoTower / MIRec with the bundle's weights, in eval mode, on CPU."""
        wpath = self.path / WEIGHTS
        try:
            if sha256_file(wpath) != self.manifest["files"][WEIGHTS]:
                raise self._error(WEIGHTS, "sha256 mismatch (changed since the bundle was loaded)")
            state = load_file(str(wpath))
        except OSError as e:
            raise self._error(WEIGHTS, f"cannot read ({e})") from None
        except BundleError:
            raise
        except Exception as e:  # safetensors raises its own error type on a malformed file
            raise self._error(WEIGHTS, f"not a valid safetensors file ({e})") from None
        model = get_kind(self.kind).build(
            field_specs(self.user_table), field_specs(self.item_table), self.spec, self.manifest
        )
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise self._error(WEIGHTS, f"does not fit the {type(model).__name__} ({e})") from None
        return model.eval()

    def query_encoder(self) -> QueryEncoder:
        return QueryEncoder(self.build_model(), self.kind, self.user_table, self.user_ids,
                            self.lambda_p)
