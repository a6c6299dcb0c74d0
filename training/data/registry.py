"""``load_dataset``: the one entry point from a ``DataConfig`` to a ``Dataset``."""

from __future__ import annotations

from pathlib import Path

from training.config import DataConfig
from training.data.bookcrossing import load_bookcrossing
from training.data.csv_source import load_csv
from training.data.dataset import Dataset
from training.data.errors import DataError
from training.data.movielens import load_ml1m, load_ml100k
from training.data.synthetic import load_synthetic

# What each file-based dataset expects in data_dir, for the error when data_dir is missing.
_EXPECTED_FILES: dict[str, str] = {
    "ml-1m": "ratings.dat, users.dat, movies.dat",
    "ml-100k": "u.data, u.user, u.item",
    "bookcrossing": "BX-Book-Ratings.csv, BX-Books.csv, BX-Users.csv",
    "csv": "the files named in the [data.csv] section",
}


def _data_dir(cfg: DataConfig) -> Path:
    if cfg.data_dir is None:
        raise DataError(
            f"dataset {cfg.dataset!r} needs data.data_dir, the folder holding "
            f"{_EXPECTED_FILES[cfg.dataset]} (e.g. --data-dir or --set data.data_dir=PATH)"
        )
    path = Path(cfg.data_dir).expanduser()
    if not path.is_dir():
        raise DataError(f"data.data_dir for dataset {cfg.dataset!r} is not a directory", path=path)
    return path


def load_dataset(cfg: DataConfig) -> Dataset:
    """Load the dataset ``cfg.dataset`` names; bad or missing input raises DataError."""
    if cfg.dataset == "synthetic":
        return load_synthetic(cfg)
    data_dir = _data_dir(cfg)
    if cfg.dataset == "ml-1m":
        return load_ml1m(data_dir)
    if cfg.dataset == "ml-100k":
        return load_ml100k(data_dir)
    if cfg.dataset == "bookcrossing":
        return load_bookcrossing(data_dir)
    if cfg.dataset == "csv":
        return load_csv(data_dir, cfg.csv)
    raise DataError(f"unknown dataset {cfg.dataset!r}")  # unreachable: the config validates it


def dataset_name(cfg: DataConfig) -> str:
    """The name results files use: ``data.csv.name`` for own data, else the dataset's."""
    return cfg.csv.name if cfg.dataset == "csv" else cfg.dataset
