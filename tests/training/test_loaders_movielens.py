from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from fixtures_loaders import write_ml1m, write_ml100k

from training.data.errors import DataError
from training.data.movielens import load_ml1m, load_ml100k


def _rows(ds, table: str, field: str) -> list[list[str]]:
    f = getattr(ds, table)[field]
    return [f.row(r) for r in range(f.n_rows)]


def test_ml1m_four_fields_counts_order_and_timestamps(tmp_path: Path) -> None:
    ds = load_ml1m(write_ml1m(tmp_path))
    assert ds.name == "ml-1m"
    assert ds.user_ids == ("1", "2", "3")  # user 9 never rates
    assert ds.item_ids == ("10", "20", "30", "40")  # first-seen order; movie 50 never rated
    assert ds.users.tolist() == [0, 0, 1, 2, 1]  # file order kept
    assert ds.items.tolist() == [0, 1, 0, 2, 3]
    assert ds.users.dtype == np.int64 and ds.items.dtype == np.int64
    assert ds.timestamps is not None
    assert ds.timestamps.tolist() == [978300760, 978302109, 978301968, 978300275, 978824291]


def test_ml1m_three_field_copy_has_no_timestamps(tmp_path: Path) -> None:
    ds = load_ml1m(write_ml1m(tmp_path, timestamps=False))
    assert ds.timestamps is None and not ds.has_timestamps
    assert ds.n_interactions == 5 and ds.items.tolist() == [0, 1, 0, 2, 3]


def test_ml1m_user_features(tmp_path: Path) -> None:
    ds = load_ml1m(write_ml1m(tmp_path))
    assert ds.user_features.names == ("user_id", "gender", "age", "occupation", "zip_prefix")
    assert _rows(ds, "user_features", "user_id") == [["1"], ["2"], ["3"]]
    assert _rows(ds, "user_features", "gender") == [["F"], ["M"], ["M"]]
    assert _rows(ds, "user_features", "age") == [["<18"], ["56+"], ["25-34"]]
    assert _rows(ds, "user_features", "occupation") == [
        ["K-12 student"],
        ["self-employed"],
        ["scientist"],
    ]
    assert _rows(ds, "user_features", "zip_prefix") == [["48"], ["70"], ["T8"]]


def test_ml1m_item_features_latin1_title_year_and_unknown_movie(tmp_path: Path) -> None:
    ds = load_ml1m(write_ml1m(tmp_path))
    assert ds.item_features.names == ("item_id", "genres", "year_bucket", "title_tokens")
    assert _rows(ds, "item_features", "genres") == [
        ["Comedy", "Drama"],
        ["Animation", "Children's", "Comedy"],
        ["Adventure", "Sci-Fi"],
        [],
    ]
    assert _rows(ds, "item_features", "year_bucket") == [
        ["1995-1999"],
        ["1995-1999"],
        ["1995-1999"],
        ["<unk>"],
    ]
    # Year removed; "of" / "the" are stopwords; "Café" decoded from latin-1.
    assert _rows(ds, "item_features", "title_tokens") == [
        ["café", "society"],
        ["toy", "story"],
        ["city", "lost", "children"],
        [],
    ]
    assert ds.item_features["genres"].multi and not ds.item_features["year_bucket"].multi


def test_ml1m_rejects_short_line_naming_file_and_line(tmp_path: Path) -> None:
    bad = "1::10::5::978300760\n1::20::3::978302109\n2::10\n"
    with pytest.raises(DataError) as e:
        load_ml1m(write_ml1m(tmp_path, ratings=bad))
    assert "ratings.dat line 3" in str(e.value)
    assert "got 2" in str(e.value) and e.value.line == 3


def test_ml1m_rejects_mixed_three_and_four_field_lines(tmp_path: Path) -> None:
    bad = "1::10::5\n1::20::3\n2::10::4::978301968\n"
    with pytest.raises(DataError, match=r"ratings\.dat line 3: expected 3 .*like line 1.*got 4"):
        load_ml1m(write_ml1m(tmp_path, ratings=bad))


def test_ml1m_wrong_separator_is_named(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"ratings\.dat line 1: .*wrong separator\? expected '::'"):
        load_ml1m(write_ml1m(tmp_path, ratings="1\t10\t5\n"))


def test_ml1m_non_integer_field_names_line_and_field(tmp_path: Path) -> None:
    bad = "1::10::5\n1::20::4.5\n"
    with pytest.raises(DataError, match=r"ratings\.dat line 2: field 'Rating' is not an integer"):
        load_ml1m(write_ml1m(tmp_path, ratings=bad))


def test_ml1m_blank_and_crlf_lines_keep_line_numbers(tmp_path: Path) -> None:
    ds = load_ml1m(write_ml1m(tmp_path, ratings="1::10::5\r\n\r\n2::20::3\r\n"))
    assert ds.items.tolist() == [0, 1] and ds.users.tolist() == [0, 1]
    with pytest.raises(DataError, match=r"line 4: field 'MovieID'"):
        load_ml1m(write_ml1m(tmp_path, ratings="1::10::5\n\n2::20::3\n2::x::3\n"))


def test_ml1m_missing_file_names_path(tmp_path: Path) -> None:
    d = write_ml1m(tmp_path)
    (d / "movies.dat").unlink()
    with pytest.raises(DataError, match=r"movies\.dat: file not found") as e:
        load_ml1m(d)
    assert e.value.path == str(d / "movies.dat")


def test_ml1m_bad_users_line(tmp_path: Path) -> None:
    d = write_ml1m(tmp_path)
    (d / "users.dat").write_text("1::F::1::10::48067\n2::M::99::16::70072\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"users\.dat line 2: field 'Age'"):
        load_ml1m(d)
    (d / "users.dat").write_text("1::F::1::10\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"users\.dat line 1: expected 5 '::'-separated"):
        load_ml1m(d)


def test_ml1m_undecodable_bytes_are_reported_by_line(tmp_path: Path) -> None:
    d = write_ml1m(tmp_path)
    # latin-1 never fails to decode, so use ratings: non-ASCII bytes where an integer belongs.
    (d / "ratings.dat").write_bytes(b"1::10::5\n1::2\xe90::3\n")
    with pytest.raises(DataError, match=r"ratings\.dat line 2: field 'MovieID'"):
        load_ml1m(d)


def test_ml100k_counts_features_and_timestamps(tmp_path: Path) -> None:
    ds = load_ml100k(write_ml100k(tmp_path))
    assert ds.name == "ml-100k"
    assert ds.user_ids == ("196", "186") and ds.item_ids == ("242", "302", "267")
    assert ds.users.tolist() == [0, 1, 0, 1] and ds.items.tolist() == [0, 1, 1, 2]
    assert ds.timestamps is not None
    assert ds.timestamps.tolist() == [881250949, 891717742, 881251000, 891717000]
    assert _rows(ds, "user_features", "age") == [["45-49"], ["35-44"]]
    assert _rows(ds, "user_features", "gender") == [["M"], ["F"]]
    assert _rows(ds, "user_features", "occupation") == [["writer"], ["executive"]]
    assert _rows(ds, "user_features", "zip_prefix") == [["55"], ["00"]]
    assert _rows(ds, "item_features", "genres") == [
        ["Comedy"],
        ["Crime", "Film-Noir", "Mystery", "Thriller"],
        [],  # "unknown" flag -> none
    ]
    assert _rows(ds, "item_features", "year_bucket") == [["1995-1999"], ["1995-1999"], ["<unk>"]]
    assert _rows(ds, "item_features", "title_tokens") == [["kolya"], ["confidential"], ["unknown"]]


def test_ml100k_latin1_title_and_feature_only_items(tmp_path: Path) -> None:
    d = write_ml100k(tmp_path, data="196\t400\t3\t881250949\n")
    ds = load_ml100k(d)
    assert ds.item_ids == ("400",)
    assert ds.item_features["title_tokens"].row(0) == ["crème", "brûlée"]
    assert ds.item_features["year_bucket"].row(0) == ["1980-1984"]


def test_ml100k_rejects_three_field_line(tmp_path: Path) -> None:
    pattern = r"u\.data line 2: expected 4 '\\t'-separated fields, got 3"
    with pytest.raises(DataError, match=pattern):
        load_ml100k(write_ml100k(tmp_path, data="1\t2\t3\t4\n1\t2\t3\n"))


def test_ml100k_bad_item_line(tmp_path: Path) -> None:
    d = write_ml100k(tmp_path)
    (d / "u.item").write_text("242|Kolya (1996)|24-Jan-1997||url|0|1\n", encoding="latin-1")
    with pytest.raises(DataError, match=r"u\.item line 1: expected 24 '\|'-separated fields"):
        load_ml100k(d)
