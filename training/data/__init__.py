"""Dataset loaders: ``load_dataset(cfg.data) -> Dataset``; bad input raises ``DataError``."""

from __future__ import annotations

from training.data.dataset import Dataset
from training.data.errors import DataError
from training.data.registry import load_dataset

__all__ = ["DataError", "Dataset", "load_dataset"]
