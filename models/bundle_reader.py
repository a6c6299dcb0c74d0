"""Reads the files of one bundle directory, checking each; every error names the bundle and the
file (``bundle runs/x: items.npz: ...``). Nothing is ever unpickled."""

from __future__ import annotations

import json
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from models.bundle_files import (
    DATA_FILES,
    FEATURES,
    FORMAT_VERSION,
    KINDS,
    MANIFEST,
    BundleError,
    sha256_file,
)
from models.feature_table import CategoricalField, FeatureTable


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
        version = m.get("format_version")
        if version != FORMAT_VERSION:
            raise self.error(
                MANIFEST, f"format_version {version!r} is not supported (this code reads "
                f"{FORMAT_VERSION})"
            )
        if m.get("kind") not in KINDS:
            raise self.error(MANIFEST, f"kind must be one of {list(KINDS)}, got {m.get('kind')!r}")
        files = m.get("files")
        if not isinstance(files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise self.error(MANIFEST, "'files' must map file names to sha256 strings")
        for name in DATA_FILES:
            if name not in files:
                raise self.error(MANIFEST, f"no sha256 recorded for {name}")
        return m

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
