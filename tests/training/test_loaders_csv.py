from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_loaders import CSV_INTERACTIONS, write_csv

from training.config import CsvConfig
from training.data.csv_source import load_csv
from training.data.errors import DataError


def _cfg(**overrides: object) -> CsvConfig:
    base: dict[str, object] = dict(
        interactions="interactions.csv",
        user_col="user",
        item_col="item",
        timestamp_col="ts",
        item_features="items.csv",
        item_key="item",
        item_multi=["genres"],
    )
    base.update(overrides)
    return CsvConfig(**base)  # type: ignore[arg-type]


def _rows(field) -> list[list[str]]:
    return [field.row(r) for r in range(field.n_rows)]


def test_interactions_ids_order_and_timestamps(tmp_path: Path) -> None:
    ds = load_csv(write_csv(tmp_path), _cfg())
    assert ds.name == "csv"
    assert ds.user_ids == ("alice", "bob", "carol")
    assert ds.item_ids == ("m1", "m2", "m,3")  # quoted separator inside the id
    assert ds.users.tolist() == [0, 1, 0, 2]
    assert ds.items.tolist() == [0, 1, 1, 2]
    assert ds.timestamps is not None and ds.timestamps.tolist() == [100, 50, 200, 10]


def test_no_timestamp_column_means_no_timestamps(tmp_path: Path) -> None:
    ds = load_csv(write_csv(tmp_path), _cfg(timestamp_col=None, item_features=None))
    assert ds.timestamps is None
    assert ds.item_features.names == ("item_id",) and ds.user_features.names == ("user_id",)


def test_item_feature_columns_become_fields(tmp_path: Path) -> None:
    items = load_csv(write_csv(tmp_path), _cfg()).item_features
    assert items.names == ("item_id", "genres", "studio")
    assert items["genres"].multi and not items["studio"].multi
    # m1's repeated "Action" is kept once; m2 has no row; "m,3" has an empty genre list.
    assert _rows(items["genres"]) == [["Action", "Comedy"], [], []]
    assert _rows(items["studio"]) == [["Ghibli"], ["<unk>"], ["Pixar"]]
    assert "A24" not in items["studio"].vocab  # m9 is not in the catalogue


def test_user_features_with_own_separator_setting(tmp_path: Path) -> None:
    semicolons = CSV_INTERACTIONS.replace(",", ";").replace('"m;3"', "m3")
    d = write_csv(tmp_path, {"interactions.csv": semicolons})
    ds = load_csv(d, _cfg(sep=";", item_features=None, user_features="users.csv", user_key="user"))
    assert ds.user_features.names == ("user_id", "age_group")
    assert _rows(ds.user_features["age_group"]) == [["young"], ["<unk>"], ["<unk>"]]


def test_missing_column_names_column_file_and_columns_found(tmp_path: Path) -> None:
    with pytest.raises(DataError) as e:
        load_csv(write_csv(tmp_path), _cfg(user_col="customer"))
    message = str(e.value)
    assert "interactions.csv" in message and "'customer'" in message
    assert "['user', 'item', 'ts', 'rating']" in message


def test_wrong_separator_is_suggested(tmp_path: Path) -> None:
    d = write_csv(tmp_path, {"interactions.csv": "user;item\nalice;m1\n"})
    pattern = r"interactions\.csv line 1: .*wrong separator\? expected ','"
    with pytest.raises(DataError, match=pattern):
        load_csv(d, _cfg(timestamp_col=None, item_features=None))


def test_bad_field_count_names_the_line(tmp_path: Path) -> None:
    d = write_csv(tmp_path, {"interactions.csv": CSV_INTERACTIONS + "dave,m1\n"})
    with pytest.raises(DataError, match=r"interactions\.csv line 6: expected 4 ','-separated"):
        load_csv(d, _cfg())


def test_non_integer_timestamp_names_the_line(tmp_path: Path) -> None:
    d = write_csv(tmp_path, {"interactions.csv": CSV_INTERACTIONS + "dave,m1,yesterday,2\n"})
    with pytest.raises(DataError, match=r"interactions\.csv line 6: column 'ts': timestamp"):
        load_csv(d, _cfg())


def test_missing_interactions_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"nope\.csv: file not found"):
        load_csv(write_csv(tmp_path), _cfg(interactions="nope.csv"))


def test_duplicate_feature_key_names_both_lines(tmp_path: Path) -> None:
    d = write_csv(tmp_path, {"items.csv": "item,genres,studio\nm1,A,B\nm2,C,D\nm1,E,F\n"})
    with pytest.raises(DataError, match=r"items\.csv line 4: duplicate key 'm1'.*first on line 2"):
        load_csv(d, _cfg())


def test_multi_column_not_in_feature_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"items\.csv: csv\.item_multi lists column 'tags'"):
        load_csv(write_csv(tmp_path), _cfg(item_multi=["tags"]))


def test_feature_key_column_missing(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"items\.csv: no column 'movie'"):
        load_csv(write_csv(tmp_path), _cfg(item_key="movie"))


def test_multi_character_separator_is_rejected_by_the_config() -> None:
    # Checked when the config is read (naming the key), before any file is opened.
    from training.config import ConfigError, load_config

    with pytest.raises(ConfigError, match=r"data\.csv\.sep: .*single character"):
        load_config(None, ["data.csv.sep='::'"])


def test_wrong_encoding_names_the_line(tmp_path: Path) -> None:
    d = write_csv(tmp_path)
    (d / "interactions.csv").write_bytes(b"user,item\nalice,m1\nbob,caf\xe9\n")
    with pytest.raises(DataError, match=r"interactions\.csv line 3: cannot decode"):
        load_csv(d, _cfg(timestamp_col=None, item_features=None))
    ds = load_csv(d, _cfg(timestamp_col=None, item_features=None, encoding="latin-1"))
    assert ds.item_ids == ("m1", "café")
