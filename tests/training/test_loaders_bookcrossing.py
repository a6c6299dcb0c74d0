from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_loaders import BX_BOOKS, BX_RATINGS, write_bookcrossing

from training.data.bookcrossing import load_bookcrossing
from training.data.errors import DataError


def _rows(field) -> list[list[str]]:
    return [field.row(r) for r in range(field.n_rows)]


def test_counts_string_isbns_and_zero_ratings(tmp_path: Path) -> None:
    ds = load_bookcrossing(write_bookcrossing(tmp_path))
    assert ds.name == "bookcrossing"
    assert ds.n_interactions == 5  # three of them are rating 0 (implicit): all kept
    assert ds.user_ids == ("276725", "276726", "276727")  # 276799 never rates
    assert ds.item_ids == ("034545104X", "0155061224", "0195153448", "0446520802", "9999999999")
    assert "0195153448" in ds.item_ids  # the leading zero survives
    assert ds.users.tolist() == [0, 1, 0, 2, 1]
    assert ds.items.tolist() == [0, 1, 2, 3, 4]
    assert ds.timestamps is None


def test_item_features(tmp_path: Path) -> None:
    items = load_bookcrossing(write_bookcrossing(tmp_path)).item_features
    assert items.names == ("item_id", "author", "publisher", "year_bucket", "title_tokens")
    assert _rows(items["author"]) == [
        ["m. j. rose"],
        ["judith rae"],
        ["mark p. o. morford"],
        ["michael teitelbaum"],
        ["<unk>"],
    ]
    assert _rows(items["publisher"]) == [
        ["ballantine books"],
        ["heinle & heinle"],
        ["oxford university press"],
        ["dk publishing inc"],
        ["<unk>"],
    ]
    # Year 0 is unknown; the book missing from BX-Books.csv has unknown features.
    assert _rows(items["year_bucket"]) == [
        ["2000-2004"],
        ["<unk>"],
        ["2000-2004"],
        ["2000-2004"],
        ["<unk>"],
    ]
    assert _rows(items["title_tokens"]) == [
        ["flesh", "tones", "novel"],
        ["rites", "passage", "café", "stories"],  # quoted ';' kept inside the title
        ["classical", "mythology"],
        ["dk", "readers", "creating", "men", "level", "proficient"],  # repaired line
        [],
    ]


def test_user_features(tmp_path: Path) -> None:
    users = load_bookcrossing(write_bookcrossing(tmp_path)).user_features
    assert users.names == ("user_id", "country", "age")
    assert _rows(users["country"]) == [["usa"], ["usa"], ["<unk>"]]  # "n/a" -> unknown
    assert _rows(users["age"]) == [["<unk>"], ["25-34"], ["<18"]]  # NULL -> unknown


def test_ratings_line_with_wrong_field_count(tmp_path: Path) -> None:
    bad = BX_RATINGS + '"1";"0195153448"\n'
    with pytest.raises(DataError) as e:
        load_bookcrossing(write_bookcrossing(tmp_path, ratings=bad))
    assert "BX-Book-Ratings.csv line 7" in str(e.value)
    assert "expected 3 ';'-separated fields" in str(e.value)


def test_ratings_unbalanced_quote_is_a_bad_line(tmp_path: Path) -> None:
    lines = BX_RATINGS.splitlines(keepends=True)
    lines[2] = '"276726";"0155061224;"5"\n'
    with pytest.raises(DataError, match=r"BX-Book-Ratings\.csv line 3: expected 3"):
        load_bookcrossing(write_bookcrossing(tmp_path, ratings="".join(lines)))


def test_ratings_non_integer_rating(tmp_path: Path) -> None:
    bad = BX_RATINGS + '"1";"0195153448";"great"\n'
    with pytest.raises(DataError, match=r"BX-Book-Ratings\.csv line 7: 'Book-Rating'"):
        load_bookcrossing(write_bookcrossing(tmp_path, ratings=bad))


def test_wrong_separator(tmp_path: Path) -> None:
    commas = BX_RATINGS.replace(";", ",")
    pattern = r"BX-Book-Ratings\.csv line 1: .*wrong separator\? expected ';'"
    with pytest.raises(DataError, match=pattern):
        load_bookcrossing(write_bookcrossing(tmp_path, ratings=commas))


def test_unknown_column_lists_columns_found(tmp_path: Path) -> None:
    renamed = BX_RATINGS.replace('"Book-Rating"', '"Rating"', 1)
    with pytest.raises(DataError) as e:
        load_bookcrossing(write_bookcrossing(tmp_path, ratings=renamed))
    assert "BX-Book-Ratings.csv" in str(e.value)
    assert "no column 'Book-Rating'" in str(e.value) and "'Rating'" in str(e.value)


def test_unrecoverable_books_line_is_an_error(tmp_path: Path) -> None:
    bad = BX_BOOKS + '"0000000001";"Short";"2001"\n'
    with pytest.raises(DataError, match=r"BX-Books\.csv line 6: expected 8 ';'-separated"):
        load_bookcrossing(write_bookcrossing(tmp_path, books=bad))


def test_missing_users_file(tmp_path: Path) -> None:
    d = write_bookcrossing(tmp_path)
    (d / "BX-Users.csv").unlink()
    with pytest.raises(DataError, match=r"BX-Users\.csv: file not found"):
        load_bookcrossing(d)
