"""The model bundle: the only thing that passes from training to serving (docs/architecture.md).

A bundle is a directory, written under a temporary name next to its destination and renamed into
place when complete:

=====================  ==========================================================================
``manifest.json``      format_version, kind, created_at, dim, index_dim, spec, fields, lambda_p,
                       meta options, everything the trainer passes (config, dataset, fingerprint,
                       protocol_version, metrics, git_commit, ...) and ``files``: sha256 of every
                       other file
``weights.safetensors`` the unwrapped model's state_dict (TwoTower or MIRec)
``items.npz``          item_ids (fixed-width unicode), embeddings float32 [n_items, index_dim],
                       train_counts int64 [n_items], is_tail bool [n_items]
``user_features.npz``  user_ids (unicode) and per field i ``values_i`` / ``offsets_i`` (int64)
``item_features.npz``  per field i ``values_i`` / ``offsets_i``
``features.json``      {"user": [...], "item": [...]}: per field name, multi flag, vocabulary
=====================  ==========================================================================

Nothing is ever unpickled (``np.load(..., allow_pickle=False)``, safetensors, JSON). The npz files
are written with fixed zip timestamps, so the same model and data give byte-identical files (and
checksums); only ``created_at`` in the manifest differs between two writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.torch import load_file
from torch import nn

from models.bundle_files import (
    DATA_FILES,
    FEATURES,
    FORMAT_VERSION,
    ITEM_FEATURES,
    ITEMS,
    KINDS,
    MANIFEST,
    USER_FEATURES,
    WEIGHTS,
    BundleError,
    BundleKind,
    sha256_file,
)
from models.bundle_reader import BundleReader
from models.bundle_writer import bundle_state_dict, write_bundle
from models.feature_table import FeatureTable
from models.kinds import get_kind
from models.query_encoder import QueryEncoder
from models.spec import TowerSpec, field_specs

__all__ = [
    "DATA_FILES", "FEATURES", "FORMAT_VERSION", "ITEM_FEATURES", "ITEMS", "KINDS", "MANIFEST",
    "USER_FEATURES", "WEIGHTS", "Bundle", "BundleError", "BundleKind", "bundle_state_dict",
    "load_bundle", "write_bundle",
]


@dataclass(frozen=True, eq=False)
class Bundle:
    """A loaded, verified bundle. Arrays are read-only."""

    path: Path
    manifest: dict[str, Any]
    kind: str
    spec: TowerSpec
    item_ids: tuple[str, ...]
    embeddings: np.ndarray  # float32 [n_items, index_dim]
    train_counts: np.ndarray  # int64 [n_items]
    is_tail: np.ndarray  # bool [n_items]
    user_table: FeatureTable
    item_table: FeatureTable
    user_ids: tuple[str, ...]
    lambda_p: float | None
    # Each known user's training items as CSR (indptr int64 [n_users + 1], items int64 [nnz]);
    # None for bundles written without it.
    user_history: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def model_version(self) -> str:
        """``{kind}-{first 12 hex of the weights' sha256}``: changes whenever the weights do."""
        return f"{self.kind}-{self.manifest['files'][WEIGHTS][:12]}"

    @property
    def dim(self) -> int:
        return self.spec.dim

    @property
    def index_dim(self) -> int:
        return int(self.embeddings.shape[1])

    @property
    def n_items(self) -> int:
        return len(self.item_ids)

    def _error(self, file: str, msg: str) -> BundleError:
        return BundleError(f"bundle {self.path}: {file}: {msg}")

    def build_model(self) -> nn.Module:
        """The TwoTower / MIRec with the bundle's weights, in eval mode, on CPU."""
        wpath = self.path / WEIGHTS
        try:
            if sha256_file(wpath) != self.manifest["files"][WEIGHTS]:
                raise self._error(WEIGHTS, "sha256 mismatch (changed since the bundle was loaded)")
            state = load_file(str(wpath))
        except OSError as e:
            raise self._error(WEIGHTS, f"cannot read ({e})") from None
        except BundleError:
            raise
        except Exception as e:  # safetensors raises its own error type on a malformed file
            raise self._error(WEIGHTS, f"not a valid safetensors file ({e})") from None
        model = get_kind(self.kind).build(
            field_specs(self.user_table), field_specs(self.item_table), self.spec, self.manifest
        )
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as e:
            raise self._error(WEIGHTS, f"does not fit the {type(model).__name__} ({e})") from None
        return model.eval()

    def query_encoder(self) -> QueryEncoder:
        return QueryEncoder(self.build_model(), self.kind, self.user_table, self.user_ids,
                            self.lambda_p)


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
    m = ld.manifest()
    ld.check_files(m["files"], verify)
    kind: str = m["kind"]
    ks = get_kind(kind)  # BundleReader.manifest checked the name
    try:
        spec = TowerSpec.from_dict(m["spec"])
        dim, index_dim = int(m["dim"]), int(m["index_dim"])
    except (KeyError, TypeError, ValueError) as e:
        raise ld.error(MANIFEST, f"bad model spec ({e})") from None
    want_index = ks.index_dim(spec)
    if dim != spec.dim or index_dim != want_index:
        raise ld.error(MANIFEST, f"dim {dim} / index_dim {index_dim} disagree with the spec "
                       f"(dim {spec.dim}, index_dim {want_index} for {kind})")
    lambda_p = m.get("lambda_p")
    if ks.has_lambda_p:
        if not isinstance(lambda_p, int | float) or not (0.0 <= float(lambda_p) <= 1.0):
            raise ld.error(MANIFEST, f"a {kind} bundle needs lambda_p in [0, 1], got {lambda_p!r}")
        lambda_p = float(lambda_p)
    else:
        lambda_p = None
    if (why := ks.manifest_error(m)) is not None:
        raise ld.error(MANIFEST, why)

    schema = ld.json_file(FEATURES)
    if not isinstance(schema, dict) or "user" not in schema or "item" not in schema:
        raise ld.error(FEATURES, "must be an object with 'user' and 'item' field lists")
    user_arrays = ld.npz(USER_FEATURES)
    item_arrays = ld.npz(ITEM_FEATURES)
    user_table = ld.table(USER_FEATURES, schema["user"], user_arrays)
    item_table = ld.table(ITEM_FEATURES, schema["item"], item_arrays)
    recorded = m.get("fields", {})
    for side, table in (("user", user_table), ("item", item_table)):
        want = [f.to_dict() for f in field_specs(table)]
        if recorded.get(side) != want:
            raise ld.error(FEATURES, f"{side} fields disagree with the manifest's 'fields'")
    user_ids = ld.strings(USER_FEATURES, user_arrays, "user_ids")
    if len(user_ids) != user_table.n_rows:
        raise ld.error(USER_FEATURES, f"{len(user_ids)} user_ids for {user_table.n_rows} rows")

    items = ld.npz(ITEMS)
    item_ids = ld.strings(ITEMS, items, "item_ids")
    n = len(item_ids)
    history = None
    if "history_indptr" in user_arrays:
        indptr = ld.array(USER_FEATURES, user_arrays, "history_indptr")
        hist = ld.array(USER_FEATURES, user_arrays, "history_items")
        csr_ok = (
            indptr.dtype == np.int64
            and hist.dtype == np.int64
            and indptr.shape == (len(user_ids) + 1,)
            and indptr[-1] == len(hist)
            and (len(hist) == 0 or (hist.min() >= 0 and hist.max() < n))
        )
        if not csr_ok:
            raise ld.error(USER_FEATURES, "history_indptr / history_items are not a CSR of item "
                           "indices over the users")
        history = (_readonly(indptr), _readonly(hist))
    if item_table.n_rows != n:
        raise ld.error(ITEM_FEATURES, f"{item_table.n_rows} rows for {n} items")
    emb = ld.array(ITEMS, items, "embeddings")
    if emb.dtype != np.float32 or emb.shape != (n, index_dim):
        raise ld.error(ITEMS, f"embeddings must be float32 [{n}, {index_dim}], got "
                       f"{emb.dtype}{list(emb.shape)}")
    counts = ld.array(ITEMS, items, "train_counts")
    if counts.dtype != np.int64 or counts.shape != (n,):
        raise ld.error(ITEMS, f"train_counts must be int64 [{n}], got {counts.dtype}"
                       f"{list(counts.shape)}")
    tail = ld.array(ITEMS, items, "is_tail")
    if tail.dtype != np.bool_ or tail.shape != (n,):
        raise ld.error(ITEMS, f"is_tail must be bool [{n}], got {tail.dtype}{list(tail.shape)}")
    if m.get("n_items", n) != n or m.get("n_users", len(user_ids)) != len(user_ids):
        raise ld.error(MANIFEST, "n_items / n_users disagree with the arrays")
    if not np.isfinite(emb).all():
        raise ld.error(ITEMS, "embeddings contain NaN or inf")

    return Bundle(
        path=p,
        manifest=m,
        kind=kind,
        spec=spec,
        item_ids=item_ids,
        embeddings=_readonly(emb),
        train_counts=_readonly(counts),
        is_tail=_readonly(tail),
        user_table=user_table,
        item_table=item_table,
        user_ids=user_ids,
        lambda_p=lambda_p,
        user_history=history,
    )
