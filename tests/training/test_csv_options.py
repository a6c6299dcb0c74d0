"""CSV loader options of issue 13: duplicates, weights and a threshold, escapes, per-file
separators / encodings, a trailing separator, the dataset's name."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from training.cli import main
from training.config import CsvConfig, load_config
from training.data.csv_source import load_csv

DUPES = (
    "user,item,ts,rating\n"
    "alice,m1,100,5\n"
    "bob,m2,50,3\n"
    "alice,m1,300,4\n"  # alice-m1 again: later, rating 4
    "alice,m2,200,2\n"
    "bob,m2,60,1\n"  # bob-m2 again
    "carol,m3,10,1\n"
)


def _write(tmp_path: Path, text: str, name: str = "interactions.csv", enc: str = "utf-8") -> Path:
    (tmp_path / name).write_bytes(text.encode(enc))
    return tmp_path


def _cfg(**kw: object) -> CsvConfig:
    base: dict[str, object] = dict(user_col="user", item_col="item", timestamp_col="ts")
    base.update(kw)
    return CsvConfig(**base)  # type: ignore[arg-type]


def test_duplicates_collapse_by_default_and_are_counted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="training"):
        ds = load_csv(_write(tmp_path, DUPES), _cfg(weight_col="rating"))
    # Pairs in first-seen order: alice-m1, bob-m2, alice-m2, carol-m3.
    assert [(ds.user_ids[u], ds.item_ids[i]) for u, i in zip(ds.users, ds.items, strict=True)] == [
        ("alice", "m1"),
        ("bob", "m2"),
        ("alice", "m2"),
        ("carol", "m3"),
    ]
    assert ds.duplicates_collapsed == 2
    assert ds.timestamps is not None and ds.timestamps.tolist() == [300, 60, 200, 10]  # latest
    assert ds.weights is not None and ds.weights.tolist() == [9.0, 4.0, 2.0, 1.0]  # summed
    assert "2 duplicate user-item rows collapsed" in caplog.text


def test_duplicates_keep_is_an_option(tmp_path: Path) -> None:
    ds = load_csv(_write(tmp_path, DUPES), _cfg(duplicates="keep"))
    assert ds.n_interactions == 6 and ds.duplicates_collapsed == 0


def test_min_weight_threshold_drops_rows_before_collapsing(tmp_path: Path) -> None:
    ds = load_csv(_write(tmp_path, DUPES), _cfg(weight_col="rating", min_weight=3))
    # Kept: alice-m1 (5, 4 -> one pair, weight 9), bob-m2 (3); carol's only row is dropped, so
    # carol and m3 are not in the data at all.
    assert ds.user_ids == ("alice", "bob") and ds.item_ids == ("m1", "m2")
    assert ds.below_threshold == 3 and ds.duplicates_collapsed == 1
    assert ds.weights is not None and ds.weights.tolist() == [9.0, 3.0]


def test_min_weight_needs_a_weight_column() -> None:
    from training.config import ConfigError

    with pytest.raises(ConfigError, match="min_weight needs weight_col"):
        load_config(None, ["data.csv.min_weight=3"])


def test_sep_escape_from_the_command_line_and_per_file_settings(tmp_path: Path) -> None:
    cfg = load_config(
        None,
        [
            "data.csv.sep=\\t",  # the two characters backslash-t, as a shell passes '\t'
            "data.csv.item_features_sep=;",
            "data.csv.item_features_encoding=latin-1",
        ],
    ).data.csv
    assert cfg.sep == "\t" and cfg.file_sep("interactions") == "\t"
    assert cfg.file_sep("item_features") == ";" and cfg.file_encoding("item_features") == "latin-1"
    assert cfg.file_encoding("interactions") == "utf-8"
    _write(tmp_path, "user\titem\nalice\tm1\nbob\tm2\n")
    _write(tmp_path, "item;studio\nm1;Caf\xe9\nm2;Ghibli\n", "items.csv", enc="latin-1")
    ds = load_csv(
        tmp_path,
        cfg.model_copy(
            update=dict(
                user_col="user", item_col="item", item_features="items.csv", item_key="item"
            )
        ),
    )
    assert ds.item_ids == ("m1", "m2")
    assert "Café" in ds.item_features["studio"].vocab


@pytest.mark.parametrize("header_too", [True, False])
def test_trailing_separator_on_every_line_is_tolerated(tmp_path: Path, header_too: bool) -> None:
    head = "user,item,ts," if header_too else "user,item,ts"
    _write(tmp_path, f"{head}\nalice,m1,1,\nbob,m2,2,\nalice,m2,3,\n")
    ds = load_csv(tmp_path, _cfg())
    assert ds.user_ids == ("alice", "bob") and ds.items.tolist() == [0, 1, 1]


def test_an_empty_last_column_is_not_mistaken_for_a_trailing_separator(tmp_path: Path) -> None:
    # The header names 3 columns and the rows have 3 fields (the last empty): a real column.
    _write(tmp_path, "user,item,ts\nalice,m1,\nbob,m2,\n")
    from training.data.errors import DataError

    with pytest.raises(DataError, match="timestamp is not an integer"):
        load_csv(tmp_path, _cfg())


def test_dataset_name_from_the_config_in_stats_and_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _write(tmp_path, DUPES)
    sets = [
        "--set",
        "data.csv.user_col=user",
        "--set",
        "data.csv.item_col=item",
        "--set",
        "data.csv.name=my-shop",
    ]
    assert main(["stats", "--dataset", "csv", "--data-dir", str(tmp_path), *sets]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["dataset"] == "my-shop" and doc["duplicates_collapsed"] == 2
    assert doc["interactions"] == 4
    out = tmp_path / "pop.json"
    args = ["evaluate", "--baseline", "popularity", "--dataset", "csv"]
    rc = main([*args, "--data-dir", str(tmp_path), *sets, "--out", str(out)])
    assert rc == 0 and json.loads(out.read_text())["dataset"] == "my-shop"


def test_the_readme_csv_example_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = Path(__file__).resolve().parents[2]
    import os

    here = Path.cwd()
    os.chdir(root)  # the example's data_dir is relative to the repo root, as the README runs it
    try:
        assert main(["stats", "--config", "configs/csv_example.toml"]) == 0
        doc = json.loads(capsys.readouterr().out)
        out = tmp_path / "bundle"
        rc = main(
            [
                "train",
                "--config",
                "configs/csv_example.toml",
                "--out",
                str(out),
                "--set",
                "train.progress=false",
            ]
        )
        assert rc == 0
    finally:
        os.chdir(here)
    assert doc["dataset"] == "example-shop"
    assert doc["item_features"] == ["item_id", "genres", "region"]
    assert doc["below_threshold"] > 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["dataset"] == "example-shop" and manifest["fingerprint"] == doc["fingerprint"]


def test_feature_columns_listed_explicitly_and_unique_columns_warned(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    n = 25
    _write(tmp_path, "user,item\n" + "".join(f"u{k % 4},m{k}\n" for k in range(n)))
    rows = "".join(f"m{k},Title {k},g{k % 3},a|b\n" for k in range(n))
    _write(tmp_path, "item,title,genre,tags\n" + rows, "items.csv")
    base = dict(user_col="user", item_col="item", item_features="items.csv", item_key="item")
    with caplog.at_level(logging.WARNING, logger="training"):
        ds = load_csv(tmp_path, CsvConfig(**base))  # type: ignore[arg-type]
    assert ds.item_features.names == ("item_id", "title", "genre", "tags")
    assert "column 'title' has a different value on every row" in caplog.text
    assert "column 'genre'" not in caplog.text
    assert "column 'tags' looks multi-valued" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="training"):
        ds = load_csv(
            tmp_path,
            CsvConfig(**base, item_feature_cols=["genre", "tags"], item_multi=["tags"]),  # type: ignore[arg-type]
        )
    assert ds.item_features.names == ("item_id", "genre", "tags") and caplog.text == ""
