"""Writes a model bundle: validates everything first, writes into a temporary directory next to
the destination, and renames it into place when complete. See models/bundle/__init__.py for the
layout. The manifest and the arrays are checked by the same code the reader uses
(models/bundle/manifest.py, models/bundle/arrays.py)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from models.bundle.arrays import check_history, check_items, check_table, table_arrays
from models.bundle.layout import (
    DATA_FILES,
    FEATURES,
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
from models.bundle.manifest import Manifest
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
    emb, counts = np.asarray(item_embeddings), np.asarray(train_counts)
    # Accept any float / integer input dtype; the stored (and checked) dtypes are float32 / int64.
    if np.issubdtype(emb.dtype, np.floating):
        emb = emb.astype(np.float32, copy=False)
    if np.issubdtype(counts.dtype, np.integer):
        counts = counts.astype(np.int64, copy=False)
    out = {"item_ids": ids, "embeddings": emb, "train_counts": counts,
           "is_tail": np.asarray(is_tail)}
    try:
        check_items(out, n_items, index_dim)
    except ValueError as e:
        raise ValueError(f"write_bundle: item_{e}" if str(e).startswith("embeddings")
                         else f"write_bundle: {e}") from None
    return out


def _history_arrays(history: tuple[np.ndarray, np.ndarray] | None, n_users: int,
                    n_items: int) -> dict[str, np.ndarray]:
    """Validated CSR of each user's training items, as ``user_features.npz`` arrays."""
    if history is None:
        return {}
    indptr = np.ascontiguousarray(history[0], dtype=np.int64)
    items = np.ascontiguousarray(history[1], dtype=np.int64)
    try:
        check_history(indptr, items, n_users, n_items)
    except ValueError as e:
        raise ValueError(f"write_bundle: user_history: {e}") from None
    return {"history_indptr": indptr, "history_items": items}


def _manifest(ks: KindSpec, model: nn.Module, spec: TowerSpec, user_table: FeatureTable,
              item_table: FeatureTable, n_tail: int, lambda_p: float | None, history: bool,
              manifest_extra: Mapping[str, Any] | None) -> Manifest:
    """The checked manifest (without ``files``, added once the files are written)."""
    if lambda_p is not None and not ks.has_lambda_p:
        raise ValueError(f"write_bundle: lambda_p is only for {lambda_p_kinds()} bundles, "
                         f"not {ks.name!r}")
    m = Manifest(
        kind=ks.name,
        created_at=datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        spec=spec,
        index_dim=ks.index_dim(spec),
        fields={"user": [f.to_dict() for f in field_specs(user_table)],
                "item": [f.to_dict() for f in field_specs(item_table)]},
        n_users=user_table.n_rows,
        n_items=item_table.n_rows,
        n_tail=n_tail,
        lambda_p=None if lambda_p is None else float(lambda_p),
        user_history=history,
        extra=ks.manifest_keys(model),
    )
    own = m.to_json()
    for key, value in (manifest_extra or {}).items():
        if key == "files" or (key in own and own[key] != value):
            raise ValueError(
                f"write_bundle: manifest_extra[{key!r}] = {value!r} contradicts the bundle's "
                f"{own.get(key)!r}"
            )
    m = replace(m, extra={**m.extra, **(manifest_extra or {})})
    try:
        return m.check()
    except ValueError as e:
        raise ValueError(f"write_bundle: {e}") from None


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
    items = _item_arrays(item_ids, item_embeddings, train_counts, is_tail, item_table.n_rows,
                         ks.index_dim(spec))
    uids = _unicode_array("user_ids", user_ids)
    try:
        check_table(user_table, len(uids), "user")
    except ValueError as e:
        raise ValueError(f"write_bundle: {e}") from None
    history = _history_arrays(user_history, user_table.n_rows, item_table.n_rows)
    manifest = _manifest(ks, model, spec, user_table, item_table, int(items["is_tail"].sum()),
                         lambda_p, bool(history), manifest_extra)

    _prepare_target(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.parent / f".{out.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        save_file(bundle_state_dict(model), str(tmp / WEIGHTS))
        write_npz(tmp / ITEMS, items)
        write_npz(tmp / USER_FEATURES, {"user_ids": uids, **table_arrays(user_table), **history})
        write_npz(tmp / ITEM_FEATURES, table_arrays(item_table))
        write_json(tmp / FEATURES, {"user": _table_schema(user_table),
                                     "item": _table_schema(item_table)})
        files = {}
        for name in DATA_FILES:
            fsync_file(tmp / name)
            files[name] = sha256_file(tmp / name)
        write_json(tmp / MANIFEST, replace(manifest, files=files).to_json())
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
