"""A short, stable fingerprint of a dataset and its split.

sha256 over the raw little-endian bytes of every array (as int64), each preceded by a tag and its
length, so the digest is the same on every machine and run and no two layouts collide. Covered:
the interactions (users, items, timestamps or their absence), the original user and item ids, the
categorical feature tables (a loader change in feature encoding changes model results too) and
every array of the split. The dataset's display name is not covered: the same data under two names
has the same fingerprint.
"""

from __future__ import annotations

import hashlib

import numpy as np

from models.feature_table import FeatureTable
from training.data.dataset import Dataset
from training.protocol.split import Split

FINGERPRINT_CHARS = 16


def _put(h: hashlib._Hash, tag: str, payload: bytes) -> None:
    tag_bytes = tag.encode("utf-8")
    h.update(len(tag_bytes).to_bytes(8, "little"))
    h.update(tag_bytes)
    h.update(len(payload).to_bytes(8, "little"))
    h.update(payload)


def _array(h: hashlib._Hash, tag: str, arr: np.ndarray | None) -> None:
    if arr is None:
        _put(h, tag + ":none", b"")
        return
    _put(h, tag, np.ascontiguousarray(np.asarray(arr).astype("<i8", copy=False)).tobytes())


def _strings(h: hashlib._Hash, tag: str, values: tuple[str, ...]) -> None:
    # Length-prefixed UTF-8 per string: no separator can be confused with content.
    out = bytearray()
    for v in values:
        b = v.encode("utf-8")
        out += len(b).to_bytes(8, "little") + b
    _put(h, tag, bytes(out))


def _table(h: hashlib._Hash, tag: str, table: FeatureTable) -> None:
    for f in table.fields:
        _strings(h, f"{tag}.{f.name}.vocab", f.vocab)
        _put(h, f"{tag}.{f.name}.multi", b"1" if f.multi else b"0")
        _array(h, f"{tag}.{f.name}.values", f.values)
        _array(h, f"{tag}.{f.name}.offsets", f.offsets)


def dataset_fingerprint(ds: Dataset, split: Split) -> str:
    """First 16 hex characters of the sha256 of ``ds`` and ``split`` (see module docstring)."""
    h = hashlib.sha256()
    _strings(h, "user_ids", ds.user_ids)
    _strings(h, "item_ids", ds.item_ids)
    _array(h, "users", ds.users)
    _array(h, "items", ds.items)
    _array(h, "timestamps", ds.timestamps)
    _table(h, "item_features", ds.item_features)
    _table(h, "user_features", ds.user_features)
    _array(h, "split.shape", np.asarray([split.n_users, split.n_items]))
    for name in ("train", "valid", "test", "held_back"):
        _array(h, f"split.{name}_users", getattr(split, f"{name}_users"))
        _array(h, f"split.{name}_items", getattr(split, f"{name}_items"))
    return h.hexdigest()[:FINGERPRINT_CHARS]
