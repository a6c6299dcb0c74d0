"""A dataset ready for training and evaluation: loaded, split, head/tail, fingerprinted."""

from __future__ import annotations

from dataclasses import dataclass

from training.config import DataConfig
from training.data.dataset import Dataset
from training.data.registry import load_dataset
from training.protocol.fingerprint import dataset_fingerprint
from training.protocol.headtail import HeadTail, head_tail
from training.protocol.split import Split, make_split


@dataclass(frozen=True)
class Prepared:
    dataset: Dataset
    split: Split
    headtail: HeadTail
    fingerprint: str


def prepare(cfg: DataConfig) -> Prepared:
    """Load, split (seeded by ``cfg.seed``), optionally subsample training data, assign head/tail.

    Head/tail is computed on the (possibly subsampled) training interactions, so training,
    evaluation and serving share one definition.
    """
    ds = load_dataset(cfg)
    split = make_split(ds, seed=cfg.seed)
    if cfg.train_fraction < 1.0:
        split = split.with_train_fraction(cfg.train_fraction, seed=cfg.seed)
    ht = head_tail(split.train_items, ds.n_items, head_fraction=cfg.head_fraction)
    return Prepared(
        dataset=ds, split=split, headtail=ht, fingerprint=dataset_fingerprint(ds, split)
    )
