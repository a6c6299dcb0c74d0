"""The two augmented views of an SSL item batch (methods.md "SSL": masking, then value dropout)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from models.augment import cfm_masks, feature_dropout_mask, rfm_masks, value_dropout
from models.feature_batch import FeatureBatch
from models.feature_table import FeatureTable
from models.mutual_info import mutual_information_table
from training.config import SslConfig


@dataclass(frozen=True)
class Views:
    view1: FeatureBatch
    mask1: torch.Tensor | None  # bool [n_fields]: True = field replaced by its default embedding
    view2: FeatureBatch
    mask2: torch.Tensor | None


class SslAugmenter:
    """Builds views for ``ssl.mode`` in {so, rfm, cfm} and the FD main-task mask for ``fd``."""

    def __init__(self, cfg: SslConfig, item_table: FeatureTable) -> None:
        self.cfg = cfg
        self.n_fields = len(item_table.fields)
        self.multi_fields = frozenset(f.name for f in item_table.fields if f.multi)
        # CFM's mutual-information table is computed once from the catalogue ([F, F]).
        self.mi: np.ndarray | None = (
            mutual_information_table(item_table) if cfg.mode == "cfm" else None
        )

    @property
    def has_ssl_loss(self) -> bool:
        return self.cfg.mode in ("so", "rfm", "cfm")

    def views(self, batch: FeatureBatch, gen: torch.Generator) -> Views:
        if self.cfg.mode == "so":
            # Spread-out: the same contrastive loss on un-augmented items (both views identical).
            return Views(batch, None, batch, None)
        if self.cfg.mode == "rfm":
            m1, m2 = rfm_masks(self.n_fields, gen)
        elif self.cfg.mode == "cfm":
            assert self.mi is not None
            m1, m2 = cfm_masks(self.mi, self.cfg.cfm_group, gen)
        else:
            raise ValueError(f"ssl.mode={self.cfg.mode!r} has no SSL views")
        # Dropout is drawn independently in each view.
        v1 = value_dropout(batch, self.cfg.dropout_rate, gen, self.multi_fields)
        v2 = value_dropout(batch, self.cfg.dropout_rate, gen, self.multi_fields)
        return Views(v1, m1, v2, m2)

    def main_task_mask(self, batch_size: int, gen: torch.Generator) -> torch.Tensor | None:
        """FD baseline: each field of each training item dropped (-> default embedding) with
        probability dr; ``[B, n_fields]``. None for every other mode."""
        if self.cfg.mode != "fd":
            return None
        return feature_dropout_mask(batch_size, self.n_fields, self.cfg.dropout_rate, gen)
