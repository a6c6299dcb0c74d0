"""Book-Crossing (Ziegler et al. 2005) in its official ``BX-*.csv`` format.

Files are ``;``-separated, double-quoted, latin-1, with a header row. ISBNs stay strings (leading
zeros and a final ``X`` kept). Every rating is an interaction, including rating 0 (implicit
feedback in this data set). There are no timestamps.

Features: items get ``item_id``, ``author`` and ``publisher`` (lower-cased, HTML entities
decoded), ``year_bucket`` (5-year buckets; 0 and implausible years are unknown) and
``title_tokens`` (multi); users get ``user_id``, ``country`` (last comma-separated part of
``Location``, lower-cased; empty or ``n/a`` unknown) and ``age`` (the ML-1M age buckets; ``NULL``
and implausible ages unknown). Books rated but missing from ``BX-Books.csv`` stay in the catalogue
with unknown features.

The real ``BX-Books.csv`` has a few lines where a title ends in ``\\"`` followed by an unquoted
author (``"...Readers)\\";Michael Teitelbaum";"2000";...``); those are repaired. Any other line
with the wrong number of fields is a DataError naming it, in the features files as in the ratings.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data.buckets import age_bucket, parse_int, year_bucket
from training.data.csv_rows import read_csv_rows
from training.data.dataset import Dataset
from training.data.errors import DataError
from training.data.indexing import (
    align,
    first_seen_index,
    id_field,
    id_strings,
    multi_from_rows,
    single_from_rows,
    table,
)
from training.data.tokens import title_tokens

RATINGS_FILE = "BX-Book-Ratings.csv"
BOOKS_FILE = "BX-Books.csv"
USERS_FILE = "BX-Users.csv"
_SEP = ";"
_ENCODING = "latin-1"
_RATINGS = frozenset(str(r) for r in range(11))  # ratings are 0 (implicit) or 1-10
_MISSING_COUNTRY = {"", "n/a", "na", "none", "null", "unknown"}


@dataclass(frozen=True)
class _Book:
    author: str | None
    publisher: str | None
    year_bucket: str | None
    title_tokens: tuple[str, ...]


@dataclass(frozen=True)
class _User:
    country: str | None
    age: str | None


def _repair_escaped_quote(line: str) -> str | None:
    """``"Title\\";Author";...`` -> ``"Title";"Author";...``: the real BX-Books.csv closes a few
    titles with ``\\"`` and leaves the next field's opening quote out."""
    return line.replace('\\";', '";"') if '\\";' in line else None


def _text(value: str) -> str | None:
    """Lower-cased, entity-decoded, whitespace-collapsed text; ``None`` when empty."""
    t = " ".join(html.unescape(value).split()).lower()
    return t or None


def _country(location: str) -> str | None:
    last = location.split(",")[-1]
    c = " ".join(html.unescape(last).replace('"', "").split()).lower().strip(" .")
    return None if c in _MISSING_COUNTRY else c


def _ratings(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Raw (user, isbn) string arrays ``[n_interactions]`` in file order."""
    path = data_dir / RATINGS_FILE
    f = read_csv_rows(
        path,
        delimiter=_SEP,
        encoding=_ENCODING,
        required=("User-ID", "ISBN", "Book-Rating"),
        single_line=True,
    )
    iu, ii, ir = f.column("User-ID"), f.column("ISBN"), f.column("Book-Rating")
    users: list[str] = []
    isbns: list[str] = []
    for row, number in zip(f.rows, f.line_numbers, strict=True):
        user, isbn = row[iu].strip(), row[ii].strip()
        if not user:
            raise DataError("empty 'User-ID'", path=path, line=number)
        if not isbn:
            raise DataError("empty 'ISBN'", path=path, line=number)
        if row[ir].strip() not in _RATINGS:
            raise DataError(
                f"'Book-Rating' must be an integer 0-10, got {row[ir]!r}", path=path, line=number
            )
        users.append(user)
        isbns.append(isbn)
    if not users:
        raise DataError("no ratings", path=path)
    return np.asarray(users), np.asarray(isbns)


def _books(data_dir: Path) -> dict[str, _Book]:
    """Books keyed by upper-cased ISBN (the ratings file has some lower-case ``x`` check digits)."""
    f = read_csv_rows(
        data_dir / BOOKS_FILE,
        delimiter=_SEP,
        encoding=_ENCODING,
        required=("ISBN", "Book-Title", "Book-Author", "Year-Of-Publication", "Publisher"),
        single_line=True,
        repair=_repair_escaped_quote,
    )
    ii, it, ia = f.column("ISBN"), f.column("Book-Title"), f.column("Book-Author")
    iy, ip = f.column("Year-Of-Publication"), f.column("Publisher")
    books: dict[str, _Book] = {}
    for row in f.rows:
        key = row[ii].strip().upper()
        if key in books:
            continue  # a repeated ISBN: the first row wins
        books[key] = _Book(
            author=_text(row[ia]),
            publisher=_text(row[ip]),
            year_bucket=year_bucket(parse_int(row[iy])),
            title_tokens=tuple(title_tokens(html.unescape(row[it]))),
        )
    return books


def _users(data_dir: Path) -> dict[str, _User]:
    f = read_csv_rows(
        data_dir / USERS_FILE,
        delimiter=_SEP,
        encoding=_ENCODING,
        required=("User-ID", "Location", "Age"),
        single_line=True,
        repair=_repair_escaped_quote,
    )
    iu, il, ia = f.column("User-ID"), f.column("Location"), f.column("Age")
    users: dict[str, _User] = {}
    for row in f.rows:
        key = row[iu].strip()
        if key not in users:
            # "NULL" and anything not an integer -> None -> unknown age.
            users[key] = _User(country=_country(row[il]), age=age_bucket(parse_int(row[ia])))
    return users


def load_bookcrossing(data_dir: Path) -> Dataset:
    """Book-Crossing from ``BX-Book-Ratings.csv``, ``BX-Books.csv`` and ``BX-Users.csv``."""
    raw_users, raw_items = _ratings(data_dir)
    books = _books(data_dir)
    users = _users(data_dir)
    user_codes, user_uniques = first_seen_index(raw_users)
    item_codes, item_uniques = first_seen_index(raw_items)
    user_ids, item_ids = id_strings(user_uniques), id_strings(item_uniques)
    b_rows = align([i.upper() for i in item_ids], books)
    u_rows = align(user_ids, users)
    return Dataset(
        name="bookcrossing",
        user_ids=user_ids,
        item_ids=item_ids,
        users=user_codes,
        items=item_codes,
        timestamps=None,
        item_features=table(
            id_field("item_id", item_ids),
            single_from_rows("author", b_rows, lambda r: r.author),
            single_from_rows("publisher", b_rows, lambda r: r.publisher),
            single_from_rows("year_bucket", b_rows, lambda r: r.year_bucket),
            multi_from_rows("title_tokens", b_rows, lambda r: r.title_tokens),
        ),
        user_features=table(
            id_field("user_id", user_ids),
            single_from_rows("country", u_rows, lambda r: r.country),
            single_from_rows("age", u_rows, lambda r: r.age),
        ),
    )
