"""The model bundle (this package: layout.py names the files, manifest.py the typed manifest,
arrays.py the array checks, write.py / read.py the two sides, loaded.py the loaded view): the only
thing that passes from training to serving (docs/architecture.md).

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

from models.bundle.layout import (
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
)
from models.bundle.loaded import Bundle
from models.bundle.manifest import Manifest
from models.bundle.read import load_bundle
from models.bundle.write import bundle_state_dict, write_bundle

__all__ = [
    "DATA_FILES", "FEATURES", "FORMAT_VERSION", "ITEM_FEATURES", "ITEMS", "KINDS", "MANIFEST",
    "USER_FEATURES", "WEIGHTS", "Bundle", "BundleError", "BundleKind", "Manifest",
    "bundle_state_dict", "load_bundle", "write_bundle",
]
