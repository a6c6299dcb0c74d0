"""A user's own data: an interactions file plus optional item / user feature files (``CsvConfig``).

Every file has a header row. The interactions file maps ``user_col`` and ``item_col`` (and
optionally ``timestamp_col``, integers) by name; other columns are ignored. A feature file is keyed
by ``item_key`` / ``user_key``; each of its other columns becomes a categorical field of the same
name, single-valued unless listed in ``item_multi`` / ``user_multi`` (then split on ``multi_sep``).
A key may repeat (a long table, one row per item and tag): its rows are grouped into one entity,
the multi-valued columns unioned; a single-valued column must then repeat the same value.
Feature rows for ids that never occur in the interactions are ignored; ids without a row keep
unknown features. Paths are relative to ``data_dir`` (an absolute path is used as is).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NoReturn

import numpy as np

from models.feature_table import CategoricalField
from training.config import CsvConfig
from training.data.buckets import parse_int
from training.data.csv_rows import CsvRows, read_csv_rows
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

log = logging.getLogger("training")
UNIQUE_WARN_MIN_ROWS = 20  # fewer rows: a category may well be unique by chance


@dataclass(frozen=True)
class _Interactions:
    users: np.ndarray  # raw user id strings [n]
    items: np.ndarray  # raw item id strings [n]
    timestamps: np.ndarray | None  # int64 [n]
    weights: np.ndarray | None  # float64 [n] (weight_col), summed over collapsed duplicates
    below_threshold: int  # rows dropped by min_weight
    duplicates: int  # rows merged into an earlier row of the same user-item pair


def _interactions(path: Path, cfg: CsvConfig) -> _Interactions:
    """The interaction rows: thresholded on ``min_weight``, then duplicates collapsed."""
    if cfg.user_col == cfg.item_col:
        raise DataError(f"csv.user_col and csv.item_col are both {cfg.user_col!r}", path=path)
    f = read_csv_rows(
        path,
        delimiter=cfg.file_sep("interactions"),
        encoding=cfg.file_encoding("interactions"),
        required=_interaction_columns(cfg),
        trailing_sep=True,
    )
    iu, ii = f.column(cfg.user_col), f.column(cfg.item_col)
    it = f.column(cfg.timestamp_col) if cfg.timestamp_col is not None else None
    iw = f.column(cfg.weight_col) if cfg.weight_col is not None else None
    users: list[str] = []
    items: list[str] = []
    stamps: list[int] = []
    weights: list[float] = []
    below = 0
    for row, number in zip(f.rows, f.line_numbers, strict=True):
        user, item = _ids(row, iu, ii, cfg, path, number)
        if iw is not None:
            w = _weight(row[iw], cfg, path, number)
            if cfg.min_weight is not None and w < cfg.min_weight:
                below += 1
                continue
            weights.append(w)
        if it is not None:
            stamps.append(_timestamp(row[it], cfg, path, number))
        users.append(user)
        items.append(item)
    if not users:
        _raise_no_interactions(below, cfg, path)
    u, i = np.asarray(users), np.asarray(items)
    ts_arr = np.asarray(stamps, dtype=np.int64) if it is not None else None
    w_arr = np.asarray(weights, dtype=np.float64) if iw is not None else None
    duplicates = 0
    if cfg.duplicates == "collapse":
        u, i, ts_arr, w_arr, duplicates = _collapse(u, i, ts_arr, w_arr)
    return _Interactions(u, i, ts_arr, w_arr, below, duplicates)


def _interaction_columns(cfg: CsvConfig) -> list[str]:
    """The interactions file's required columns: user, item, then timestamp and weight if set."""
    required = [cfg.user_col, cfg.item_col]
    for extra in (cfg.timestamp_col, cfg.weight_col):
        if extra is not None:
            required.append(extra)
    return required


def _ids(
    row: list[str], iu: int, ii: int, cfg: CsvConfig, path: Path, number: int
) -> tuple[str, str]:
    """The row's (user, item) ids, stripped; empty ones are errors naming the line."""
    user, item = row[iu].strip(), row[ii].strip()
    if not user:
        raise DataError(f"empty user id in column {cfg.user_col!r}", path=path, line=number)
    if not item:
        raise DataError(f"empty item id in column {cfg.item_col!r}", path=path, line=number)
    return user, item


def _weight(raw: str, cfg: CsvConfig, path: Path, number: int) -> float:
    """A ``weight_col`` value: a finite number, else a DataError naming the line."""
    try:
        w = float(raw)
    except ValueError:
        raise DataError(
            f"column {cfg.weight_col!r}: not a number: {raw!r}", path=path, line=number
        ) from None
    if not np.isfinite(w):
        raise DataError(f"column {cfg.weight_col!r}: not finite: {raw!r}", path=path, line=number)
    return w


def _timestamp(raw: str, cfg: CsvConfig, path: Path, number: int) -> int:
    """A ``timestamp_col`` value: an integer, else a DataError naming the line."""
    ts = parse_int(raw)
    if ts is None:
        raise DataError(
            f"column {cfg.timestamp_col!r}: timestamp is not an integer: {raw!r}",
            path=path,
            line=number,
        )
    return ts


def _raise_no_interactions(below: int, cfg: CsvConfig, path: Path) -> NoReturn:
    if below:
        raise DataError(
            f"no interactions left: all {below} rows have {cfg.weight_col} < "
            f"csv.min_weight ({cfg.min_weight})",
            path=path,
        )
    raise DataError("no interactions (only a header)", path=path)


def _collapse(
    u: np.ndarray, i: np.ndarray, ts: np.ndarray | None, w: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray | None, int]:
    """One row per (user, item) pair, at its first occurrence in the file; its timestamp is the
    pair's latest (the user's most recent interaction with the item, which leave-one-out means
    by "last"), its weight the pair's sum. Returns the arrays and the number of rows merged."""
    _, first, inverse = np.unique(
        np.char.add(np.char.add(u.astype(str), "\x00"), i.astype(str)),
        return_index=True,
        return_inverse=True,
    )
    inverse = inverse.reshape(-1)
    n_dup = len(u) - len(first)
    if n_dup == 0:
        return u, i, ts, w, 0
    keep = np.sort(first)  # file positions of the kept rows, in file order
    group_of_kept = inverse[keep]  # [n_pairs]: the pair each kept row stands for
    slot = np.empty(len(first), dtype=np.int64)
    slot[group_of_kept] = np.arange(len(keep))  # pair -> output row
    out_ts = None
    if ts is not None:
        out_ts = np.full(len(keep), np.iinfo(np.int64).min, dtype=np.int64)
        np.maximum.at(out_ts, slot[inverse], ts)
    out_w = None
    if w is not None:
        out_w = np.zeros(len(keep), dtype=np.float64)
        np.add.at(out_w, slot[inverse], w)
    return u[keep], i[keep], out_ts, out_w, n_dup


@dataclass(frozen=True)
class _FeatureColumns:
    """A feature file's non-key columns in header order, each a mapping id -> raw value(s)."""

    names: list[str]
    single: dict[str, dict[str, str]]  # column -> id -> value ('' = unknown)
    multi: dict[str, dict[str, tuple[str, ...]]]  # column -> id -> values (deduplicated)

    def fields(self, ids: tuple[str, ...]) -> list[CategoricalField]:
        out: list[CategoricalField] = []
        for c in self.names:
            if c in self.multi:
                out.append(multi_from_rows(c, align(ids, self.multi[c]), lambda v: v))
            else:
                out.append(single_from_rows(c, align(ids, self.single[c]), lambda v: v or None))
        return out


def _features(
    path: Path, cfg: CsvConfig, key: str, multi: list[str], id_name: str, multi_setting: str
) -> _FeatureColumns:
    """Read one feature file; errors name the file, the column and (for bad rows) the line."""
    file: Literal["item_features", "user_features"] = (
        "item_features" if id_name == "item_id" else "user_features"
    )
    f = read_csv_rows(
        path,
        delimiter=cfg.file_sep(file),
        encoding=cfg.file_encoding(file),
        required=[key],
        trailing_sep=True,
    )
    _check_multi(f, key, multi, multi_setting)
    listed = cfg.item_feature_cols if id_name == "item_id" else cfg.user_feature_cols
    setting = f"csv.{id_name.split('_')[0]}_feature_cols"
    names = _feature_names(f, key, listed, setting, id_name)
    single: dict[str, dict[str, str]] = {c: {} for c in names if c not in multi}
    multi_values: dict[str, dict[str, tuple[str, ...]]] = {c: {} for c in names if c in multi}
    _group_rows(f, f.column(key), key, single, multi_values, cfg.multi_sep, multi_setting)
    for c, values in single.items():
        _warn_suspicious(path, c, values, cfg, listed is None, setting, multi_setting)
    return _FeatureColumns(names, single, multi_values)


def _check_multi(f: CsvRows, key: str, multi: list[str], multi_setting: str) -> None:
    """Every column listed as multi-valued is in the file and is not the key."""
    for name in multi:
        if name not in f.header:
            raise DataError(
                f"{multi_setting} lists column {name!r}, which is not in the file; "
                f"columns found: {list(f.header)}",
                path=f.path,
            )
    if key in multi:
        raise DataError(f"{multi_setting} lists the key column {key!r}", path=f.path)


def _feature_names(
    f: CsvRows, key: str, listed: list[str] | None, setting: str, id_name: str
) -> list[str]:
    """The feature columns in header order: those ``listed`` (each must be a non-key column of
    the file), else every non-key column; none may be unnamed or clash with ``id_name``."""
    if listed is not None:
        for name in listed:
            if name not in f.header or name == key:
                raise DataError(
                    f"{setting} lists column {name!r}, which is not a feature column of the file; "
                    f"columns found: {list(f.header)}",
                    path=f.path,
                )
        names = [c for c in f.header if c in listed]
    else:
        names = [c for c in f.header if c != key]
    for c in names:
        if not c:
            raise DataError("a feature column has an empty name in the header", path=f.path)
        if c == id_name:
            raise DataError(
                f"feature column {c!r} clashes with the id field {id_name!r}; rename it",
                path=f.path,
            )
    return names


def _group_rows(
    f: CsvRows,
    ik: int,
    key: str,
    single: dict[str, dict[str, str]],
    multi: dict[str, dict[str, tuple[str, ...]]],
    multi_sep: str,
    multi_setting: str,
) -> None:
    """Fill ``single`` / ``multi`` (column -> key -> value(s)) from the rows of ``f``. A key may
    repeat (a long table, one row per item and tag): its multi-valued columns are unioned in
    first-seen order, its single-valued ones must repeat the same value."""
    index = {c: f.header.index(c) for c in (*single, *multi)}
    first_line: dict[str, int] = {}
    for row, number in zip(f.rows, f.line_numbers, strict=True):
        k = row[ik].strip()
        if not k:
            raise DataError(f"empty key in column {key!r}", path=f.path, line=number)
        seen = first_line.setdefault(k, number)
        for c, values in single.items():
            _set_single(values, k, row[index[c]].strip(), c, key, seen, multi_setting, f, number)
        for c, bags in multi.items():
            parts = (p.strip() for p in row[index[c]].split(multi_sep))
            bags[k] = tuple(dict.fromkeys((*bags.get(k, ()), *(p for p in parts if p))))


def _set_single(
    values: dict[str, str],
    k: str,
    value: str,
    c: str,
    key: str,
    first: int,
    multi_setting: str,
    f: CsvRows,
    number: int,
) -> None:
    """Record single-valued column ``c`` of key ``k``; a repeated key (first on line ``first``)
    must repeat the same value, else a DataError naming the column, the key and the line."""
    old = values.setdefault(k, value)
    if old != value:
        raise DataError(
            f"duplicate key {k!r} in column {key!r} (first on line {first}) with a different "
            f"value in single-valued column {c!r} ({old!r} there, {value!r} here); rows of one "
            f"key are grouped only for columns listed in {multi_setting}",
            path=f.path,
            line=number,
        )


def _warn_suspicious(
    path: Path,
    c: str,
    values: dict[str, str],
    cfg: CsvConfig,
    unlisted: bool,
    setting: str,
    multi_setting: str,
) -> None:
    """Warn when single-valued column ``c`` looks like an identifier (only when the feature
    columns were not listed) or looks multi-valued."""
    filled = [v for v in values.values() if v]
    if unlisted and len(filled) >= UNIQUE_WARN_MIN_ROWS and len(set(filled)) == len(filled):
        log.warning(
            "%s: column %r has a different value on every row (a name or URL?): as a "
            "categorical feature it cannot generalise; list the columns to use in %s",
            path,
            c,
            setting,
        )
    if sum(cfg.multi_sep in v for v in filled) > len(filled) // 2:
        log.warning(
            "%s: column %r looks multi-valued (%r in most rows) but is not in %s: "
            "each whole value is one category",
            path,
            c,
            cfg.multi_sep,
            multi_setting,
        )


def load_csv(data_dir: Path, cfg: CsvConfig) -> Dataset:
    """Load the files named by ``cfg`` under ``data_dir``."""
    path = data_dir / cfg.interactions
    rows = _interactions(path, cfg)
    raw_users, raw_items, timestamps = rows.users, rows.items, rows.timestamps
    if rows.duplicates:
        log.warning(
            "%s: %d duplicate user-item rows collapsed into one interaction per pair "
            '(data.csv.duplicates = "keep" keeps them)',
            path,
            rows.duplicates,
        )
    if rows.below_threshold:
        log.info(
            "%s: %d rows below data.csv.min_weight = %s dropped",
            path,
            rows.below_threshold,
            cfg.min_weight,
        )
    user_codes, user_uniques = first_seen_index(raw_users)
    item_codes, item_uniques = first_seen_index(raw_items)
    user_ids, item_ids = id_strings(user_uniques), id_strings(item_uniques)

    item_fields = [id_field("item_id", item_ids)]
    if cfg.item_features is not None:
        item_fields += _features(
            data_dir / cfg.item_features,
            cfg,
            cfg.item_key,
            cfg.item_multi,
            "item_id",
            "csv.item_multi",
        ).fields(item_ids)
    user_fields = [id_field("user_id", user_ids)]
    if cfg.user_features is not None:
        user_fields += _features(
            data_dir / cfg.user_features,
            cfg,
            cfg.user_key,
            cfg.user_multi,
            "user_id",
            "csv.user_multi",
        ).fields(user_ids)
    return Dataset(
        name=cfg.name,
        user_ids=user_ids,
        item_ids=item_ids,
        users=user_codes,
        items=item_codes,
        timestamps=timestamps,
        item_features=table(*item_fields),
        user_features=table(*user_fields),
        duplicates_collapsed=rows.duplicates,
        below_threshold=rows.below_threshold,
        weights=rows.weights,
    )
