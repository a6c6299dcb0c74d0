"""The dataset names, declared once: name → loader (and, for file datasets, what ``data_dir`` must
hold). ``DataConfig.dataset`` is validated against ``DATASETS`` and the CLI's ``--dataset`` choices
come from it; ``load_dataset`` is the one entry point from a ``DataConfig`` to a ``Dataset``.

Adding a dataset: one loader module plus one line here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from training.config import DataConfig
from training.data.bookcrossing import load_bookcrossing
from training.data.csv_source import load_csv
from training.data.dataset import Dataset
from training.data.errors import DataError
from training.data.movielens import load_ml1m, load_ml100k
from training.data.synthetic import load_synthetic


@dataclass(frozen=True)
class DatasetSource:
    # (config, data_dir) -> Dataset; data_dir is None only for sources that need no files.
    load: Callable[[DataConfig, Path | None], Dataset]
    # What data_dir must hold (for the error when it is missing); None: no files needed.
    expected_files: str | None = None


def _needs_dir(data_dir: Path | None) -> Path:
    assert data_dir is not None  # _data_dir has checked it for every source with expected_files
    return data_dir


DATASETS: dict[str, DatasetSource] = {
    "synthetic": DatasetSource(lambda cfg, _: load_synthetic(cfg)),
    "ml-1m": DatasetSource(
        lambda _, d: load_ml1m(_needs_dir(d)), "ratings.dat, users.dat, movies.dat"
    ),
    "ml-100k": DatasetSource(lambda _, d: load_ml100k(_needs_dir(d)), "u.data, u.user, u.item"),
    "bookcrossing": DatasetSource(
        lambda _, d: load_bookcrossing(_needs_dir(d)),
        "BX-Book-Ratings.csv, BX-Books.csv, BX-Users.csv",
    ),
    "csv": DatasetSource(
        lambda cfg, d: load_csv(_needs_dir(d), cfg.csv), "the files named in the [data.csv] section"
    ),
}


def _data_dir(cfg: DataConfig, expected_files: str) -> Path:
    if cfg.data_dir is None:
        raise DataError(
            f"dataset {cfg.dataset!r} needs data.data_dir, the folder holding "
            f"{expected_files} (e.g. --data-dir or --set data.data_dir=PATH)"
        )
    path = Path(cfg.data_dir).expanduser()
    if not path.is_dir():
        raise DataError(f"data.data_dir for dataset {cfg.dataset!r} is not a directory", path=path)
    return path


def load_dataset(cfg: DataConfig) -> Dataset:
    """Load the dataset ``cfg.dataset`` names; bad or missing input raises DataError."""
    source = DATASETS.get(cfg.dataset)
    if source is None:  # only for a DataConfig built with model_construct (unvalidated)
        raise DataError(f"unknown dataset {cfg.dataset!r}; known: {', '.join(DATASETS)}")
    data_dir = None if source.expected_files is None else _data_dir(cfg, source.expected_files)
    return source.load(cfg, data_dir)


def dataset_name(cfg: DataConfig) -> str:
    """The name results files use: ``data.csv.name`` for own data, else the dataset's."""
    return cfg.csv.name if cfg.dataset == "csv" else cfg.dataset
