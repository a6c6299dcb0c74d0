"""The bundle's ``manifest.json`` as one frozen, typed value, validated once (``check``), by the
writer before anything is written and by the reader after the JSON is parsed.

Keys other than the ones below (config, dataset, fingerprint, metrics, a kind's own keys such as
MIRec's ``meta_kind`` / ``meta_hidden``, ...) pass through unchanged in ``extra``; the kind checks
its own keys (models/kinds.py: ``manifest_error``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models.bundle.layout import DATA_FILES, FORMAT_VERSION, MANIFEST
from models.kinds import KindSpec, get_kind
from models.spec import TowerSpec

# The keys this module owns; everything else in the JSON object is ``extra``.
CORE_KEYS = (
    "format_version", "kind", "created_at", "dim", "index_dim", "spec", "fields", "n_users",
    "n_items", "n_tail", "lambda_p", "user_history", "files",
)
REBUILD_HINT = ("rebuild it with this version: `python -m training train --config <its config> "
                "--out <dir>`")


@dataclass(frozen=True)
class Manifest:
    kind: str
    created_at: str
    spec: TowerSpec
    index_dim: int
    fields: Mapping[str, Any]  # {"user": [FieldSpec dicts], "item": [...]}
    n_users: int
    n_items: int
    n_tail: int
    lambda_p: float | None
    user_history: bool
    files: Mapping[str, str] = field(default_factory=dict)  # file name -> sha256 hex
    extra: Mapping[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    @property
    def kind_spec(self) -> KindSpec:
        return get_kind(self.kind)

    @property
    def dim(self) -> int:
        return self.spec.dim

    def check(self) -> Manifest:
        """Raise ValueError (the reason only; callers name the bundle and file) unless valid."""
        if self.format_version != FORMAT_VERSION:
            raise ValueError(f"format_version {self.format_version!r} is not supported (this "
                             f"code reads {FORMAT_VERSION}); {REBUILD_HINT}")
        ks = get_kind(self.kind)
        if self.index_dim != ks.index_dim(self.spec):
            raise ValueError(f"dim {self.dim} / index_dim {self.index_dim} disagree with the spec "
                             f"(index_dim {ks.index_dim(self.spec)} for {self.kind})")
        _check_lambda_p(ks, self.lambda_p)
        if (why := ks.manifest_error(self.extra)) is not None:
            raise ValueError(why)
        for name in DATA_FILES:
            if self.files and name not in self.files:
                raise ValueError(f"no sha256 recorded for {name}")
        return self

    def to_json(self) -> dict[str, Any]:
        core: dict[str, Any] = {
            "format_version": self.format_version,
            "kind": self.kind,
            "created_at": self.created_at,
            "dim": self.dim,
            "index_dim": self.index_dim,
            "spec": self.spec.to_dict(),
            "fields": dict(self.fields),
            "n_users": self.n_users,
            "n_items": self.n_items,
            "n_tail": self.n_tail,
            "lambda_p": self.lambda_p,
            "user_history": self.user_history,
        }
        out = {**core, **self.extra}
        if self.files:
            out["files"] = dict(self.files)
        return out

    @staticmethod
    def from_json(m: Mapping[str, Any]) -> Manifest:
        """Parse and check a manifest object; ValueError with the reason on a bad one."""
        version = m.get("format_version")
        if version != FORMAT_VERSION:
            raise ValueError(f"format_version {version!r} is not supported (this code reads "
                             f"{FORMAT_VERSION}); {REBUILD_HINT}")
        ks = get_kind(m.get("kind"))
        files = m.get("files")
        if not isinstance(files, dict) or not files or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in files.items()
        ):
            raise ValueError("'files' must map file names to sha256 strings")
        try:
            spec = TowerSpec.from_dict(m["spec"])
            dim, index_dim = int(m["dim"]), int(m["index_dim"])
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"bad model spec ({e})") from None
        if dim != spec.dim:
            raise ValueError(f"dim {dim} / index_dim {index_dim} disagree with the spec "
                             f"(dim {spec.dim})")
        lam = m.get("lambda_p")
        if ks.has_lambda_p and not isinstance(lam, int | float):
            raise ValueError(f"a {ks.name} bundle needs lambda_p in [0, 1], got {lam!r}")
        return Manifest(
            kind=ks.name,
            created_at=str(m.get("created_at", "")),
            spec=spec,
            index_dim=index_dim,
            fields=m.get("fields", {}),
            n_users=_int(m, "n_users"),
            n_items=_int(m, "n_items"),
            n_tail=_int(m, "n_tail"),
            lambda_p=float(lam) if ks.has_lambda_p and lam is not None else None,
            user_history=bool(m.get("user_history", False)),
            files=files,
            extra={k: v for k, v in m.items() if k not in CORE_KEYS},
        ).check()


def _int(m: Mapping[str, Any], key: str) -> int:
    v = m.get(key, -1)  # -1: not recorded (checked against the arrays only when present)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError(f"{key} must be an integer, got {v!r}")
    return v


def _check_lambda_p(ks: KindSpec, lam: float | None) -> None:
    if not ks.has_lambda_p:
        return
    if lam is None or not (0.0 <= float(lam) <= 1.0):  # also rejects NaN
        raise ValueError(f"a {ks.name} bundle needs lambda_p in [0, 1], got {lam!r}")


__all__ = ["MANIFEST", "Manifest", "REBUILD_HINT"]
