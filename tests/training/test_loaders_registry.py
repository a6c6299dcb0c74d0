from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from fixtures_loaders import write_bookcrossing, write_csv, write_ml1m, write_ml100k

from training.config import CsvConfig, DataConfig, SyntheticConfig
from training.data import DataError, load_dataset

REAL = Path("/work/shared/data")


@pytest.mark.parametrize("name", ["ml-1m", "ml-100k", "bookcrossing", "csv"])
def test_file_datasets_need_data_dir(name: str) -> None:
    with pytest.raises(DataError, match=rf"dataset '{name}' needs data\.data_dir"):
        load_dataset(DataConfig(dataset=name))


def test_data_dir_that_does_not_exist(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    with pytest.raises(DataError, match=r"nowhere: data\.data_dir for dataset 'ml-1m'"):
        load_dataset(DataConfig(dataset="ml-1m", data_dir=str(missing)))


def test_dispatch_to_each_loader(tmp_path: Path) -> None:
    cases = {
        "ml-1m": (write_ml1m(tmp_path), 5),
        "ml-100k": (write_ml100k(tmp_path), 4),
        "bookcrossing": (write_bookcrossing(tmp_path), 5),
        "csv": (write_csv(tmp_path), 4),
    }
    csv_cfg = CsvConfig(user_col="user", item_col="item")
    for name, (folder, n) in cases.items():
        ds = load_dataset(DataConfig(dataset=name, data_dir=str(folder), csv=csv_cfg))
        assert ds.name == name and ds.n_interactions == n
    syn = load_dataset(DataConfig(synthetic=SyntheticConfig(preset="tiny")))
    assert syn.name == "synthetic" and syn.n_items == 300


@pytest.mark.skipif(not (REAL / "ml-1m").is_dir(), reason="real ML-1M not present")
def test_real_ml1m_counts() -> None:
    t0 = time.perf_counter()
    ds = load_dataset(DataConfig(dataset="ml-1m", data_dir=str(REAL / "ml-1m")))
    elapsed = time.perf_counter() - t0
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (6040, 3706, 1000209)
    assert ds.has_timestamps == (ds.timestamps is not None)
    # Every rated movie has a row in movies.dat, every user one in users.dat.
    assert np.all(ds.item_features["year_bucket"].values > 0)
    assert np.all(ds.user_features["gender"].values > 0)
    assert ds.user_ids[0] == "1" and ds.item_ids[0] == "1193"  # first line: 1::1193::5
    assert elapsed < 10.0  # about 1 s on an idle core


@pytest.mark.skipif(not (REAL / "ml-100k").is_dir(), reason="real ML-100K not present")
def test_real_ml100k_counts() -> None:
    ds = load_dataset(DataConfig(dataset="ml-100k", data_dir=str(REAL / "ml-100k")))
    assert (ds.n_users, ds.n_items, ds.n_interactions) == (943, 1682, 100000)
    assert ds.timestamps is not None
    assert ds.user_ids[0] == "196" and ds.item_ids[0] == "242"  # first line: 196 242 3 ...
