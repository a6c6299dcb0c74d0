"""MovieLens ML-1M and ML-100K in their official GroupLens file formats.

Features (docs/methods.md): users get ``user_id``, ``gender``, ``age`` (ML-1M's age buckets;
ML-100K's raw ages are mapped onto the same buckets), ``occupation``, ``zip_prefix`` (first two
characters, see ``buckets.ZIP_PREFIX_LEN``); items get ``item_id``, ``genres`` (multi),
``year_bucket`` (5-year buckets of the release year) and ``title_tokens`` (multi; lower-case words
of the title without its year, stopwords dropped).

The catalogue is the set of items that appear in the ratings (ML-1M: 3,706 of the 3,883 movies in
``movies.dat``). A rated user or item without a row in the users / movies file keeps unknown
features. ML-1M's ``ratings.dat`` may have the official 4 fields or 3 (no timestamp: the copy in
shared/data), in which case ``timestamps`` is ``None``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from training.data.buckets import (
    ML1M_AGE_LABELS,
    ML1M_OCCUPATIONS,
    age_bucket,
    parse_int,
    year_bucket,
    zip_prefix,
)
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
from training.data.int_table import IntTable, read_int_table
from training.data.text_file import read_lines
from training.data.tokens import split_title_year, title_tokens

# u.genre: the 19 flag columns of u.item, in order. "unknown" becomes an empty genre bag.
ML100K_GENRES: tuple[str, ...] = (
    "unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
    "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance",
    "Sci-Fi", "Thriller", "War", "Western",
)  # fmt: skip


T = TypeVar("T")


@dataclass(frozen=True)
class _User:
    gender: str | None
    age: str | None
    occupation: str | None
    zip_prefix: str | None


@dataclass(frozen=True)
class _Item:
    genres: tuple[str, ...]
    year_bucket: str | None
    title_tokens: tuple[str, ...]


def _split(line: str, sep: str, n: int, path: Path, number: int, what: str) -> list[str]:
    parts = line.split(sep)
    if len(parts) != n:
        hint = f" (wrong separator? expected {sep!r})" if len(parts) == 1 else ""
        raise DataError(
            f"expected {n} {sep!r}-separated fields ({what}), got {len(parts)}{hint}",
            path=path,
            line=number,
        )
    return parts


def _key(text: str, field: str, path: Path, number: int) -> str:
    """A numeric id, normalised as the ratings' integer ids print (``"007"`` -> ``"7"``)."""
    value = parse_int(text)
    if value is None:
        raise DataError(f"field {field!r} is not an integer: {text!r}", path=path, line=number)
    return str(value)


def _put(rows: dict[str, tuple[int, T]], key: str, row: T, path: Path, n: int) -> None:
    """Store ``row`` under ``key`` with its line number; a repeated key is an error."""
    if key in rows:
        raise DataError(f"duplicate id {key!r} (first on line {rows[key][0]})", path=path, line=n)
    rows[key] = (n, row)


def _build(
    name: str,
    ratings: IntTable,
    users: dict[str, tuple[int, _User]],
    items: dict[str, tuple[int, _Item]],
) -> Dataset:
    """Dense-index the ratings and attach the aligned feature rows."""
    user_codes, user_uniques = first_seen_index(ratings.values[:, 0])
    item_codes, item_uniques = first_seen_index(ratings.values[:, 1])
    user_ids, item_ids = id_strings(user_uniques), id_strings(item_uniques)
    u_rows = align(user_ids, {k: row for k, (_, row) in users.items()})
    i_rows = align(item_ids, {k: row for k, (_, row) in items.items()})
    user_features = table(
        id_field("user_id", user_ids),
        single_from_rows("gender", u_rows, lambda r: r.gender),
        single_from_rows("age", u_rows, lambda r: r.age),
        single_from_rows("occupation", u_rows, lambda r: r.occupation),
        single_from_rows("zip_prefix", u_rows, lambda r: r.zip_prefix),
    )
    item_features = table(
        id_field("item_id", item_ids),
        multi_from_rows("genres", i_rows, lambda r: r.genres),
        single_from_rows("year_bucket", i_rows, lambda r: r.year_bucket),
        multi_from_rows("title_tokens", i_rows, lambda r: r.title_tokens),
    )
    timestamps = ratings.values[:, 3].copy() if ratings.n_fields == 4 else None
    return Dataset(
        name=name,
        user_ids=user_ids,
        item_ids=item_ids,
        users=user_codes,
        items=item_codes,
        timestamps=timestamps,
        item_features=item_features,
        user_features=user_features,
    )


# --- ML-1M --------------------------------------------------------------------------------------


def _ml1m_users(path: Path) -> dict[str, tuple[int, _User]]:
    rows: dict[str, tuple[int, _User]] = {}
    for n, line in enumerate(read_lines(path, "latin-1"), start=1):
        if not line.strip():
            continue
        uid, gender, age, occupation, zip_code = _split(
            line, "::", 5, path, n, "UserID::Gender::Age::Occupation::Zip-code"
        )
        if age.strip() not in ML1M_AGE_LABELS:
            raise DataError(
                f"field 'Age' must be one of the codes {', '.join(ML1M_AGE_LABELS)}, got {age!r}",
                path=path,
                line=n,
            )
        if occupation.strip() not in ML1M_OCCUPATIONS:
            raise DataError(
                f"field 'Occupation' must be a code 0-20, got {occupation!r}", path=path, line=n
            )
        user = _User(
            gender=gender.strip() or None,
            age=ML1M_AGE_LABELS[age.strip()],
            occupation=ML1M_OCCUPATIONS[occupation.strip()],
            zip_prefix=zip_prefix(zip_code),
        )
        _put(rows, _key(uid, "UserID", path, n), user, path, n)
    return rows


def _ml1m_movies(path: Path) -> dict[str, tuple[int, _Item]]:
    rows: dict[str, tuple[int, _Item]] = {}
    for n, line in enumerate(read_lines(path, "latin-1"), start=1):
        if not line.strip():
            continue
        mid, title, genres = _split(line, "::", 3, path, n, "MovieID::Title::Genres")
        bare_title, year = split_title_year(title)
        item = _Item(
            genres=tuple(g.strip() for g in genres.split("|") if g.strip()),
            year_bucket=year_bucket(year),
            title_tokens=tuple(title_tokens(bare_title)),
        )
        _put(rows, _key(mid, "MovieID", path, n), item, path, n)
    return rows


def load_ml1m(data_dir: Path) -> Dataset:
    """ML-1M from ``ratings.dat`` (3 or 4 fields), ``users.dat`` and ``movies.dat``."""
    ratings = read_int_table(
        data_dir / "ratings.dat", "::", ("UserID", "MovieID", "Rating", "Timestamp"), (3, 4)
    )
    users = _ml1m_users(data_dir / "users.dat")
    movies = _ml1m_movies(data_dir / "movies.dat")
    return _build("ml-1m", ratings, users, movies)


# --- ML-100K ------------------------------------------------------------------------------------


def _ml100k_users(path: Path) -> dict[str, tuple[int, _User]]:
    rows: dict[str, tuple[int, _User]] = {}
    for n, line in enumerate(read_lines(path, "latin-1"), start=1):
        if not line.strip():
            continue
        uid, age, gender, occupation, zip_code = _split(
            line, "|", 5, path, n, "user id|age|gender|occupation|zip code"
        )
        age_value = parse_int(age)
        if age_value is None:
            raise DataError(f"field 'age' is not an integer: {age!r}", path=path, line=n)
        user = _User(
            gender=gender.strip() or None,
            age=age_bucket(age_value),
            occupation=occupation.strip() or None,
            zip_prefix=zip_prefix(zip_code),
        )
        _put(rows, _key(uid, "user id", path, n), user, path, n)
    return rows


def _ml100k_items(path: Path) -> dict[str, tuple[int, _Item]]:
    rows: dict[str, tuple[int, _Item]] = {}
    n_fields = 5 + len(ML100K_GENRES)
    for n, line in enumerate(read_lines(path, "latin-1"), start=1):
        if not line.strip():
            continue
        parts = _split(line, "|", n_fields, path, n, "movie id|title|release date|...|19 genres")
        flags = parts[5:]
        bad = [f for f in flags if f not in ("0", "1")]
        if bad:
            raise DataError(f"genre flags must be 0 or 1, got {bad[0]!r}", path=path, line=n)
        bare_title, title_year = split_title_year(parts[1])
        # Release date "01-Jan-1995"; item 267 has none (and the title "unknown").
        date_year = parse_int(parts[2].strip()[-4:]) if parts[2].strip() else None
        item = _Item(
            genres=tuple(
                g for g, f in zip(ML100K_GENRES, flags, strict=True) if f == "1" and g != "unknown"
            ),
            year_bucket=year_bucket(date_year if date_year is not None else title_year),
            title_tokens=tuple(title_tokens(bare_title)),
        )
        _put(rows, _key(parts[0], "movie id", path, n), item, path, n)
    return rows


def load_ml100k(data_dir: Path) -> Dataset:
    """ML-100K from ``u.data`` (tab-separated, with timestamps), ``u.user`` and ``u.item``."""
    ratings = read_int_table(
        data_dir / "u.data", "\t", ("user id", "item id", "rating", "timestamp"), (4,)
    )
    users = _ml100k_users(data_dir / "u.user")
    items = _ml100k_items(data_dir / "u.item")
    return _build("ml-100k", ratings, users, items)
