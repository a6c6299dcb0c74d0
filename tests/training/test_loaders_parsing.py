"""The shared helpers under the loaders: indexing, integer tables, CSV rows, value buckets."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from training.data.buckets import age_bucket, parse_int, year_bucket, zip_prefix
from training.data.csv_rows import read_csv_rows
from training.data.errors import DataError
from training.data.indexing import first_seen_index, id_field, multi_codes_field
from training.data.int_table import read_int_table
from training.data.tokens import split_title_year, title_tokens


def test_first_seen_index_ints_and_strings() -> None:
    codes, uniq = first_seen_index(np.array([30, 10, 30, 20, 10]))
    assert codes.tolist() == [0, 1, 0, 2, 1] and uniq.tolist() == [30, 10, 20]
    codes, uniq = first_seen_index(np.array(["0195153448", "034545104X", "0195153448"]))
    assert codes.tolist() == [0, 1, 0] and uniq.tolist() == ["0195153448", "034545104X"]


def test_id_field_vocab_follows_index() -> None:
    f = id_field("item_id", ("b", "a"))
    assert f.vocab == ("<unk>", "b", "a") and f.values.tolist() == [1, 2]
    with pytest.raises(ValueError, match="reserved"):
        id_field("item_id", ("<unk>",))


def test_multi_codes_field_drops_missing_and_repeats() -> None:
    f = multi_codes_field("g", np.array([[2, 0, 2], [-1, -1, -1], [1, -1, 0]]), ["x", "y", "z"])
    assert [f.row(r) for r in range(3)] == [["z", "x"], [], ["y", "x"]]
    assert f.offsets.tolist() == [0, 2, 2, 4]


def test_int_table_counts_and_line_numbers(tmp_path: Path) -> None:
    p = tmp_path / "r.dat"
    p.write_text("1::2::3\n\n4::5::6\n", encoding="ascii")
    t = read_int_table(p, "::", ("a", "b", "c"), (3,))
    assert t.values.tolist() == [[1, 2, 3], [4, 5, 6]] and t.line_numbers.tolist() == [1, 3]
    p.write_text("1::2::3\n4::5::99999999999999999999\n", encoding="ascii")
    with pytest.raises(DataError, match=r"r\.dat line 2: field 'c' out of range"):
        read_int_table(p, "::", ("a", "b", "c"), (3,))
    p.write_text("", encoding="ascii")
    with pytest.raises(DataError, match=r"r\.dat: no data lines"):
        read_int_table(p, "::", ("a", "b", "c"), (3,))


def test_csv_rows_quoted_delimiter_multiline_and_repair(tmp_path: Path) -> None:
    p = tmp_path / "f.csv"
    p.write_text('a,b\n"x,1","multi\nline"\n\n3,4\n', encoding="utf-8")
    rows = read_csv_rows(p, delimiter=",", encoding="utf-8", required=["a"])
    assert rows.rows == [["x,1", "multi\nline"], ["3", "4"]] and rows.line_numbers == [2, 5]
    with pytest.raises(DataError, match=r"f\.csv line 2: unbalanced quote"):
        read_csv_rows(p, delimiter=",", encoding="utf-8", required=["a"], single_line=True)
    p.write_text('a;b\n"x\\";y"\n', encoding="utf-8")
    fixed = read_csv_rows(
        p,
        delimiter=";",
        encoding="utf-8",
        required=["a"],
        single_line=True,
        repair=lambda line: line.replace('\\";', '";"'),
    )
    assert fixed.rows == [["x", "y"]] and fixed.repaired == 1


def test_buckets_and_tokens() -> None:
    assert [age_bucket(a) for a in (None, 3, 17, 18, 34, 49, 50, 56, 101)] == [
        None,
        None,
        "<18",
        "18-24",
        "25-34",
        "45-49",
        "50-55",
        "56+",
        None,
    ]
    assert [year_bucket(y) for y in (0, 1995, 1999, 2000, 2050)] == [
        None,
        "1995-1999",
        "1995-1999",
        "2000-2004",
        None,
    ]
    assert zip_prefix(" t8h1n5") == "T8" and zip_prefix("") is None
    assert [parse_int(s) for s in (" 12", "-3", "1.5", "NULL", "")] == [12, -3, None, None, None]
    assert split_title_year("Heat (1995)") == ("Heat", 1995)
    assert split_title_year("Heat") == ("Heat", None)
    assert title_tokens("The Lord of the Rings: The Two Towers, A") == [
        "lord",
        "rings",
        "two",
        "towers",
    ]


# --- round trips over generated inputs -------------------------------------------------------

_int64 = st.integers(min_value=-(2**62), max_value=2**62)
_field = st.text(alphabet=st.sampled_from(list('ab;,"é x')), max_size=6)
_SETTINGS = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_SETTINGS
@given(
    rows=st.lists(st.lists(_int64, min_size=3, max_size=3), min_size=1, max_size=30),
    blanks=st.sets(st.integers(min_value=0, max_value=30), max_size=5),
    sep=st.sampled_from(["::", "\t", "|"]),
)
def test_int_table_round_trip(
    tmp_path: Path, rows: list[list[int]], blanks: set[int], sep: str
) -> None:
    lines: list[str] = []
    expected_lines: list[int] = []
    for k, row in enumerate(rows):
        if k in blanks:
            lines.append("")
        lines.append(sep.join(str(v) for v in row))
        expected_lines.append(len(lines))
    p = tmp_path / "t.dat"
    p.write_text("\n".join(lines) + "\n", encoding="ascii")
    t = read_int_table(p, sep, ("a", "b", "c"), (3,))
    assert t.values.tolist() == rows and t.line_numbers.tolist() == expected_lines


@_SETTINGS
@given(rows=st.lists(st.lists(_field, min_size=3, max_size=3), min_size=1, max_size=20))
def test_csv_rows_round_trip_with_quoted_separators(tmp_path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\n")
    writer.writerow(["A", "B", "C"])
    writer.writerows(rows)
    p = tmp_path / "r.csv"
    p.write_text(buf.getvalue(), encoding="latin-1")
    got = read_csv_rows(
        p, delimiter=";", encoding="latin-1", required=["A", "B", "C"], single_line=True
    )
    assert got.rows == rows and got.line_numbers == list(range(2, len(rows) + 2))
