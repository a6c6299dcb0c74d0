"""Reads one bundle directory (``load_bundle``), checking each file with the same manifest and array
validators the writer uses; every error names the bundle and the file
(``bundle runs/x: items.npz: ...``). Nothing is ever unpickled."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle.arrays import check_history, check_items, check_table
from models.bundle.layout import (
    FEATURES,
    ITEM_FEATURES,
    ITEMS,
    MANIFEST,
    USER_FEATURES,
    BundleError,
    sha256_file,
)
from models.bundle.loaded import Bundle
from models.bundle.manifest import Manifest
from models.feature_table import CategoricalField, FeatureTable
from models.spec import field_specs


class BundleReader:
    """One load of one bundle directory; every error names the bundle and the file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def error(self, file: str, msg: str) -> BundleError:
        return BundleError(f"bundle {self.path}: {file}: {msg}")

    def manifest(self) -> dict[str, Any]:
        try:
            text = (self.path / MANIFEST).read_text(encoding="utf-8")
        except FileNotFoundError:
            raise self.error(MANIFEST, "missing") from None
        except (OSError, UnicodeDecodeError) as e:
            raise self.error(MANIFEST, f"cannot read ({e})") from None
        try:
            m = json.loads(text)
        except json.JSONDecodeError as e:
            raise self.error(MANIFEST, f"not valid JSON ({e})") from None
        if not isinstance(m, dict):
            raise self.error(MANIFEST, "must be a JSON object")
        return m

    def checked(self, file: str, check: Callable[..., Any], *args: Any) -> Any:
        """``check(*args)``, its ValueError reported against ``file`` of this bundle."""
        try:
            return check(*args)
        except ValueError as e:
            raise self.error(file, str(e)) from None

    def check_files(self, files: Mapping[str, str], verify: bool) -> None:
        for name, digest in files.items():
            if name in ("", ".", "..") or "/" in name or "\\" in name or name == MANIFEST:
                raise self.error(MANIFEST, f"bad file name {name!r} in 'files'")
            fp = self.path / name
            if not fp.is_file():
                raise self.error(name, "missing")
            if verify and sha256_file(fp) != digest:
                raise self.error(name, "sha256 mismatch")

    def json_file(self, name: str) -> Any:
        try:
            return json.loads((self.path / name).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
            raise self.error(name, f"cannot read ({e})") from None

    def npz(self, name: str) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path / name, allow_pickle=False) as z:
                return {k: z[k] for k in z.files}
        except (OSError, ValueError, zipfile.BadZipFile, EOFError) as e:
            # ValueError covers object arrays: np.load refuses to unpickle them
            raise self.error(name, f"cannot read ({e})") from None

    def strings(self, name: str, arrays: Mapping[str, np.ndarray], key: str) -> tuple[str, ...]:
        arr = self.array(name, arrays, key)
        if arr.dtype.kind != "U" or arr.ndim != 1:
            raise self.error(name, f"{key} must be a 1-D unicode array, got {arr.dtype}{arr.shape}")
        return tuple(str(x) for x in arr.tolist())

    def array(self, name: str, arrays: Mapping[str, np.ndarray], key: str) -> np.ndarray:
        if key not in arrays:
            raise self.error(name, f"no array {key!r}")
        return arrays[key]

    def table(self, name: str, schema: Any, arrays: Mapping[str, np.ndarray]) -> FeatureTable:
        if not isinstance(schema, list):
            raise self.error(FEATURES, "each side must be a list of fields")
        fields = []
        for i, fs in enumerate(schema):
            try:
                fname, multi, vocab = str(fs["name"]), bool(fs["multi"]), tuple(fs["vocab"])
            except (KeyError, TypeError) as e:
                raise self.error(FEATURES, f"field {i}: bad schema ({e})") from None
            values = self.array(name, arrays, f"values_{i}")
            offsets = self.array(name, arrays, f"offsets_{i}")
            try:
                fields.append(CategoricalField(fname, vocab, multi, values, offsets))
            except ValueError as e:
                raise self.error(name, str(e)) from None
        try:
            return FeatureTable(tuple(fields))
        except ValueError as e:
            raise self.error(name, str(e)) from None

    def tables(self, m: Manifest) -> tuple[FeatureTable, FeatureTable, dict[str, np.ndarray]]:
        """The user and item feature tables (checked against the manifest's ``fields``) and the
        raw ``user_features.npz`` arrays (user ids and history live there too)."""
        schema = self.json_file(FEATURES)
        if not isinstance(schema, dict) or "user" not in schema or "item" not in schema:
            raise self.error(FEATURES, "must be an object with 'user' and 'item' field lists")
        user_arrays = self.npz(USER_FEATURES)
        user_table = self.table(USER_FEATURES, schema["user"], user_arrays)
        item_table = self.table(ITEM_FEATURES, schema["item"], self.npz(ITEM_FEATURES))
        for side, table in (("user", user_table), ("item", item_table)):
            if m.fields.get(side) != [f.to_dict() for f in field_specs(table)]:
                raise self.error(FEATURES, f"{side} fields disagree with the manifest's 'fields'")
        return user_table, item_table, user_arrays

    def items(self, m: Manifest, item_table: FeatureTable) -> dict[str, Any]:
        arrays = self.npz(ITEMS)
        item_ids = self.strings(ITEMS, arrays, "item_ids")
        self.checked(ITEM_FEATURES, check_table, item_table, len(item_ids), "item")
        out = {k: self.array(ITEMS, arrays, k) for k in ("embeddings", "train_counts", "is_tail")}
        self.checked(ITEMS, check_items, out, len(item_ids), m.index_dim)
        return {"item_ids": item_ids, **{k: _readonly(v) for k, v in out.items()}}

    def history(self, arrays: Mapping[str, np.ndarray], n_users: int,
                n_items: int) -> tuple[np.ndarray, np.ndarray] | None:
        if "history_indptr" not in arrays:
            return None  # written without it
        indptr = self.array(USER_FEATURES, arrays, "history_indptr")
        hist = self.array(USER_FEATURES, arrays, "history_items")
        self.checked(USER_FEATURES, check_history, indptr, hist, n_users, n_items)
        return _readonly(indptr), _readonly(hist)


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def load_bundle(path: str | Path, verify: bool = True) -> Bundle:
    """Load and check a bundle (format version, sha256 of every file when ``verify``, shapes).

    Raises :class:`BundleError` naming the bundle and the offending file.
    """
    p = Path(path)
    ld = BundleReader(p)
    if not p.is_dir():
        raise BundleError(f"bundle {p}: not a directory")
    raw = ld.manifest()
    m: Manifest = ld.checked(MANIFEST, Manifest.from_json, raw)
    ld.check_files(m.files, verify)
    user_table, item_table, user_arrays = ld.tables(m)
    user_ids = ld.strings(USER_FEATURES, user_arrays, "user_ids")
    ld.checked(USER_FEATURES, check_table, user_table, len(user_ids), "user")
    items = ld.items(m, item_table)
    n_items = len(items["item_ids"])
    if m.n_items not in (-1, n_items) or m.n_users not in (-1, len(user_ids)):
        raise ld.error(MANIFEST, "n_items / n_users disagree with the arrays")
    return Bundle(
        path=p,
        manifest=raw,
        kind=m.kind,
        spec=m.spec,
        user_table=user_table,
        item_table=item_table,
        user_ids=user_ids,
        lambda_p=m.lambda_p,
        user_history=ld.history(user_arrays, len(user_ids), n_items),
        **items,
    )
