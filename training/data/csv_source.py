"""A user's own data: an interactions file plus optional item / user feature files (``CsvConfig``).

Every file has a header row. The interactions file maps ``user_col`` and ``item_col`` (and
optionally ``timestamp_col``, integers) by name; other columns are ignored. A feature file is keyed
by ``item_key`` / ``user_key``; each of its other columns becomes a categorical field of the same
name, single-valued unless listed in ``item_multi`` / ``user_multi`` (then split on ``multi_sep``).
Feature rows for ids that never occur in the interactions are ignored; ids without a row keep
unknown features. Paths are relative to ``data_dir`` (an absolute path is used as is).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from models.feature_table import CategoricalField
from training.config import CsvConfig
from training.data.buckets import parse_int
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
    required = [cfg.user_col, cfg.item_col]
    for extra in (cfg.timestamp_col, cfg.weight_col):
        if extra is not None:
            required.append(extra)
    f = read_csv_rows(
        path,
        delimiter=cfg.file_sep("interactions"),
        encoding=cfg.file_encoding("interactions"),
        required=required,
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
        user, item = row[iu].strip(), row[ii].strip()
        if not user:
            raise DataError(f"empty user id in column {cfg.user_col!r}", path=path, line=number)
        if not item:
            raise DataError(f"empty item id in column {cfg.item_col!r}", path=path, line=number)
        if iw is not None:
            try:
                w = float(row[iw])
            except ValueError:
                raise DataError(
                    f"column {cfg.weight_col!r}: not a number: {row[iw]!r}", path=path, line=number
                ) from None
            if not np.isfinite(w):
                raise DataError(
                    f"column {cfg.weight_col!r}: not finite: {row[iw]!r}", path=path, line=number
                )
            if cfg.min_weight is not None and w < cfg.min_weight:
                below += 1
                continue
            weights.append(w)
        if it is not None:
            ts = parse_int(row[it])
            if ts is None:
                raise DataError(
                    f"column {cfg.timestamp_col!r}: timestamp is not an integer: {row[it]!r}",
                    path=path,
                    line=number,
                )
            stamps.append(ts)
        users.append(user)
        items.append(item)
    if not users:
        if below:
            raise DataError(
                f"no interactions left: all {below} rows have {cfg.weight_col} < "
                f"csv.min_weight ({cfg.min_weight})",
                path=path,
            )
        raise DataError("no interactions (only a header)", path=path)
    u, i = np.asarray(users), np.asarray(items)
    ts_arr = np.asarray(stamps, dtype=np.int64) if it is not None else None
    w_arr = np.asarray(weights, dtype=np.float64) if iw is not None else None
    duplicates = 0
    if cfg.duplicates == "collapse":
        u, i, ts_arr, w_arr, duplicates = _collapse(u, i, ts_arr, w_arr)
    return _Interactions(u, i, ts_arr, w_arr, below, duplicates)


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
    for name in multi:
        if name not in f.header:
            raise DataError(
                f"{multi_setting} lists column {name!r}, which is not in the file; "
                f"columns found: {list(f.header)}",
                path=path,
            )
    if key in multi:
        raise DataError(f"{multi_setting} lists the key column {key!r}", path=path)
    ik = f.column(key)
    listed = cfg.item_feature_cols if id_name == "item_id" else cfg.user_feature_cols
    setting = f"csv.{id_name.split('_')[0]}_feature_cols"
    if listed is not None:
        for name in listed:
            if name not in f.header or name == key:
                raise DataError(
                    f"{setting} lists column {name!r}, which is not a feature column of the file; "
                    f"columns found: {list(f.header)}",
                    path=path,
                )
        names = [c for c in f.header if c in listed]
    else:
        names = [c for c in f.header if c != key]
    for c in names:
        if not c:
            raise DataError("a feature column has an empty name in the header", path=path)
        if c == id_name:
            raise DataError(
                f"feature column {c!r} clashes with the id field {id_name!r}; rename it",
                path=path,
            )
    single: dict[str, dict[str, str]] = {c: {} for c in names if c not in multi}
    multi_values: dict[str, dict[str, tuple[str, ...]]] = {c: {} for c in names if c in multi}
    index = {c: f.header.index(c) for c in names}
    first_line: dict[str, int] = {}
    for row, number in zip(f.rows, f.line_numbers, strict=True):
        k = row[ik].strip()
        if not k:
            raise DataError(f"empty key in column {key!r}", path=path, line=number)
        if k in first_line:
            raise DataError(
                f"duplicate key {k!r} in column {key!r} (first on line {first_line[k]})",
                path=path,
                line=number,
            )
        first_line[k] = number
        for c, values in single.items():
            values[k] = row[index[c]].strip()
        for c, bags in multi_values.items():
            parts = (p.strip() for p in row[index[c]].split(cfg.multi_sep))
            bags[k] = tuple(dict.fromkeys(p for p in parts if p))  # dedupe, keep order
    for c, values in single.items():
        filled = [v for v in values.values() if v]
        if (
            listed is None
            and len(filled) >= UNIQUE_WARN_MIN_ROWS
            and len(set(filled)) == len(filled)
        ):
            log.warning(
                "%s: column %r has a different value on every row (a name or URL?): as a "
                "categorical feature it cannot generalise; list the columns to use in %s",
                path,
                c,
                setting,
            )
        if c not in multi and sum(cfg.multi_sep in v for v in filled) > len(filled) // 2:
            log.warning(
                "%s: column %r looks multi-valued (%r in most rows) but is not in %s: "
                "each whole value is one category",
                path,
                c,
                cfg.multi_sep,
                multi_setting,
            )
    return _FeatureColumns(names, single, multi_values)


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
