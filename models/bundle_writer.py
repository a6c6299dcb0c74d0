"""Writes a model bundle: validates everything first, writes into a temporary directory next to
the destination, and renames it into place when complete. See models/bundle.py for the layout."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from models.bundle_files import (
    DATA_FILES,
    FEATURES,
    FORMAT_VERSION,
    ITEM_FEATURES,
    ITEMS,
    MANIFEST,
    USER_FEATURES,
    WEIGHTS,
    BundleKind,
    fsync_file,
    sha256_file,
    write_json,
    write_npz,
)
from models.feature_table import FeatureTable
from models.kinds import KindSpec, get_kind, lambda_p_kinds
from models.spec import TowerSpec, field_specs


def _unicode_array(name: str, ids: Sequence[str]) -> np.ndarray:
    ids = list(ids)
    bad = next((x for x in ids if not isinstance(x, str)), None)
    if bad is not None:
        raise TypeError(f"write_bundle: {name} must be strings, found {type(bad).__name__} {bad!r}")
    if len(set(ids)) != len(ids):
        raise ValueError(f"write_bundle: {name} has duplicates")
    arr = np.asarray(ids, dtype=str) if ids else np.zeros(0, dtype="<U1")
    return arr


def _table_arrays(table: FeatureTable) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for i, f in enumerate(table.fields):
        out[f"values_{i}"] = f.values.astype(np.int64, copy=False)
        out[f"offsets_{i}"] = f.offsets.astype(np.int64, copy=False)
    return out


def _table_schema(table: FeatureTable) -> list[dict[str, Any]]:
    return [{"name": f.name, "multi": f.multi, "vocab": list(f.vocab)} for f in table.fields]


def _check_model(ks: KindSpec, model: nn.Module, spec: TowerSpec, user_table: FeatureTable,
                 item_table: FeatureTable) -> None:
    if type(model) is not ks.model_cls:
        raise TypeError(
            f"write_bundle: kind {ks.name!r} needs an unwrapped {ks.model_cls.__name__}, "
            f"got {type(model).__name__}"
        )
    model_spec = getattr(model, "spec", None)
    if model_spec != spec:
        raise ValueError(f"write_bundle: spec {spec} differs from the model's {model_spec}")
    user_fields, item_fields = ks.model_fields(model)
    if user_fields != field_specs(user_table):
        raise ValueError("write_bundle: user_table fields differ from the model's query tower")
    if item_fields != field_specs(item_table):
        raise ValueError("write_bundle: item_table fields differ from the model's item tower")


def _item_arrays(item_ids: Sequence[str], item_embeddings: np.ndarray, train_counts: np.ndarray,
                 is_tail: np.ndarray, n_items: int, index_dim: int) -> dict[str, np.ndarray]:
    ids = _unicode_array("item_ids", item_ids)
    if len(ids) != n_items:
        raise ValueError(f"write_bundle: {len(ids)} item_ids for {n_items} item feature rows")
    emb = np.asarray(item_embeddings)
    if emb.shape != (n_items, index_dim) or not np.issubdtype(emb.dtype, np.floating):
        raise ValueError(
            f"write_bundle: item_embeddings must be float [{n_items}, {index_dim}], "
            f"got {emb.dtype}{list(emb.shape)}"
        )
    emb = emb.astype(np.float32, copy=False)
    if not np.isfinite(emb).all():
        raise ValueError("write_bundle: item_embeddings contain NaN or inf")
    counts = np.asarray(train_counts)
    if counts.shape != (n_items,) or not np.issubdtype(counts.dtype, np.integer):
        raise ValueError(
            f"write_bundle: train_counts must be integer [{n_items}], got {counts.dtype}"
            f"{list(counts.shape)}"
        )
    if (counts < 0).any():
        raise ValueError("write_bundle: train_counts must be >= 0")
    tail = np.asarray(is_tail)
    if tail.shape != (n_items,) or tail.dtype != np.bool_:
        raise ValueError(
            f"write_bundle: is_tail must be bool [{n_items}], got {tail.dtype}{list(tail.shape)}"
        )
    return {"item_ids": ids, "embeddings": emb, "train_counts": counts.astype(np.int64),
            "is_tail": tail}


def _history_arrays(history: tuple[np.ndarray, np.ndarray] | None, n_users: int,
                    n_items: int) -> dict[str, np.ndarray]:
    """Validated CSR of each user's training items, as ``user_features.npz`` arrays."""
    if history is None:
        return {}
    indptr = np.ascontiguousarray(history[0], dtype=np.int64)
    items = np.ascontiguousarray(history[1], dtype=np.int64)
    if indptr.shape != (n_users + 1,) or indptr[0] != 0 or indptr[-1] != len(items) \
            or np.any(np.diff(indptr) < 0):
        raise ValueError(f"write_bundle: user_history indptr must be a CSR over {n_users} users")
    if len(items) and (items.min() < 0 or items.max() >= n_items):
        raise ValueError("write_bundle: user_history has item indices outside the catalogue")
    return {"history_indptr": indptr, "history_items": items}


def _check_lambda_p(ks: KindSpec, lambda_p: float | None) -> float | None:
    if not ks.has_lambda_p:
        if lambda_p is not None:
            raise ValueError(f"write_bundle: lambda_p is only for {lambda_p_kinds()} bundles, "
                             f"not {ks.name!r}")
        return None
    if lambda_p is None or not (0.0 <= float(lambda_p) <= 1.0):
        raise ValueError(f"write_bundle: a {ks.name} bundle needs lambda_p in [0, 1], "
                         f"got {lambda_p}")
    return float(lambda_p)


def _prepare_target(out: Path) -> None:
    """Refuse to replace anything that is not a bundle (a typo must not delete a user's folder)."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"write_bundle: {out} exists and is not a directory")
    if out.is_dir() and any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise ValueError(f"write_bundle: {out} is a non-empty directory without {MANIFEST}; "
                         "refusing to replace it")


def _move_into_place(tmp: Path, out: Path) -> None:
    _prepare_target(out)
    old: Path | None = None
    if out.exists():
        old = out.parent / f".{out.name}.old-{uuid.uuid4().hex[:8]}"
        os.rename(out, old)
    try:
        os.rename(tmp, out)
    except OSError:
        if old is not None:
            os.rename(old, out)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_bundle(
    out_dir: str | Path,
    *,
    kind: BundleKind,
    model: nn.Module,
    spec: TowerSpec,
    user_table: FeatureTable,
    item_table: FeatureTable,
    item_ids: Sequence[str],
    user_ids: Sequence[str],
    item_embeddings: np.ndarray,
    train_counts: np.ndarray,
    is_tail: np.ndarray,
    lambda_p: float | None = None,
    manifest_extra: Mapping[str, Any] | None = None,
    user_history: tuple[np.ndarray, np.ndarray] | None = None,
) -> Path:
    """Write a complete bundle to ``out_dir`` (replacing an existing bundle there) and return it.

    ``model`` is the unwrapped model of ``kind`` (models/kinds.py: its ``model_cls``; a kind with
    ``has_lambda_p`` also needs ``lambda_p``). ``item_embeddings`` are the index vectors
    ``[n_items, index_dim]`` (``index_dim`` from the kind). ``manifest_extra`` must not contradict
    a key this function writes itself. ``user_history`` = (indptr int64 ``[n_users + 1]``, item
    indices int64 ``[nnz]``) is each known user's training items, which the service excludes from
    their results.
    """
    out = Path(out_dir)
    try:
        ks = get_kind(kind)
    except ValueError as e:
        raise ValueError(f"write_bundle: {e}") from None
    _check_model(ks, model, spec, user_table, item_table)
    index_dim = ks.index_dim(spec)
    items = _item_arrays(item_ids, item_embeddings, train_counts, is_tail, item_table.n_rows,
                         index_dim)
    uids = _unicode_array("user_ids", user_ids)
    if len(uids) != user_table.n_rows:
        raise ValueError(f"write_bundle: {len(uids)} user_ids for {user_table.n_rows} user rows")
    lam = _check_lambda_p(ks, lambda_p)
    history = _history_arrays(user_history, user_table.n_rows, item_table.n_rows)
    manifest: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "kind": kind,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "dim": spec.dim,
        "index_dim": index_dim,
        "spec": spec.to_dict(),
        "fields": {
            "user": [f.to_dict() for f in field_specs(user_table)],
            "item": [f.to_dict() for f in field_specs(item_table)],
        },
        "n_users": user_table.n_rows,
        "n_items": item_table.n_rows,
        "n_tail": int(items["is_tail"].sum()),
        "lambda_p": lam,
        "user_history": bool(history),
        **ks.manifest_keys(model),
    }
    for key, value in (manifest_extra or {}).items():
        if key == "files" or (key in manifest and manifest[key] != value):
            raise ValueError(
                f"write_bundle: manifest_extra[{key!r}] = {value!r} contradicts the bundle's "
                f"{manifest.get(key)!r}"
            )
        manifest[key] = value

    _prepare_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        save_file(bundle_state_dict(model), str(tmp / WEIGHTS))
        write_npz(tmp / ITEMS, items)
        write_npz(tmp / USER_FEATURES, {"user_ids": uids, **_table_arrays(user_table), **history})
        write_npz(tmp / ITEM_FEATURES, _table_arrays(item_table))
        write_json(tmp / FEATURES, {"user": _table_schema(user_table),
                                     "item": _table_schema(item_table)})
        files = {}
        for name in DATA_FILES:
            fsync_file(tmp / name)
            files[name] = sha256_file(tmp / name)
        manifest["files"] = files
        write_json(tmp / MANIFEST, manifest)
        fsync_file(tmp / MANIFEST)
        _move_into_place(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def bundle_state_dict(model: nn.Module) -> dict[str, torch.Tensor]:
    """The tensors a bundle stores for ``model``: contiguous CPU copies of its state_dict, each
    with its own storage (safetensors refuses tensors that share memory)."""
    return {k: v.detach().to("cpu").contiguous().clone() for k, v in model.state_dict().items()}
