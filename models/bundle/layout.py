"""The on-disk layout of a model bundle: file names, format version, the error type, and the
low-level writers (reproducible npz, JSON) and checksums shared by the writer and the reader.
See models/bundle/__init__.py for the contents of each file."""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from models.kinds import KIND_NAMES

FORMAT_VERSION = 1
BundleKind = str  # a name in models/kinds.py:KINDS
KINDS: tuple[str, ...] = KIND_NAMES

MANIFEST = "manifest.json"
WEIGHTS = "weights.safetensors"
ITEMS = "items.npz"
USER_FEATURES = "user_features.npz"
ITEM_FEATURES = "item_features.npz"
FEATURES = "features.json"
DATA_FILES: tuple[str, ...] = (WEIGHTS, ITEMS, USER_FEATURES, ITEM_FEATURES, FEATURES)


class BundleError(ValueError):
    """A bundle that cannot be used; the message names the bundle path and the offending file."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fsync_file(path: Path) -> None:
    """Flush a written file to disk before the bundle directory is renamed into place."""
    with path.open("rb") as fh:
        os.fsync(fh.fileno())


def write_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Like ``np.savez`` (uncompressed) but with a fixed zip timestamp: reproducible output."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for name, arr in arrays.items():
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            with zf.open(info, "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)


def write_json(path: Path, obj: Any) -> None:
    path.write_text(json.dumps(obj, indent=2, default=_json_default) + "\n", encoding="utf-8")


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, np.ndarray):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"bundle manifest: a {type(o).__name__} value is not JSON-serialisable")
