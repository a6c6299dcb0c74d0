"""Static shapes of a model: the tower hyper-parameters and the feature fields it embeds.

Both are plain frozen dataclasses so that a bundle can record them as JSON and rebuild the exact
same modules at serving time.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from models.feature_table import FeatureTable


@dataclass(frozen=True)
class TowerSpec:
    """Hyper-parameters shared by the query and the item tower.

    ``hidden`` are the output sizes of the MLP's Linear layers (ReLU between them, none after the
    last), so the tower's output width is ``hidden[-1]``, which must equal ``dim``; empty ``hidden``
    means no MLP (the tower checks that its fields x ``field_dim`` equal ``dim``). ``field_dim`` is
    the embedding width of every feature field. ``normalize`` L2-normalises tower outputs (cosine
    scores), and then logits are divided by ``temperature``.
    """

    dim: int = 64
    hidden: tuple[int, ...] = field(default=(256, 128, 64))
    field_dim: int = 32
    normalize: bool = False
    temperature: float = 0.07

    def __post_init__(self) -> None:
        # Accept a list (e.g. from a config) but store a tuple so the spec stays hashable.
        object.__setattr__(self, "hidden", tuple(int(h) for h in self.hidden))
        if self.dim <= 0:
            raise ValueError(f"TowerSpec.dim must be positive, got {self.dim}")
        if self.field_dim <= 0:
            raise ValueError(f"TowerSpec.field_dim must be positive, got {self.field_dim}")
        if any(h <= 0 for h in self.hidden):
            raise ValueError(f"TowerSpec.hidden sizes must be positive, got {list(self.hidden)}")
        if self.hidden and self.hidden[-1] != self.dim:
            raise ValueError(
                f"TowerSpec.hidden[-1] ({self.hidden[-1]}) must equal TowerSpec.dim ({self.dim})"
            )
        if not (math.isfinite(self.temperature) and self.temperature > 0):
            raise ValueError(f"TowerSpec.temperature must be > 0, got {self.temperature}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "dim": self.dim,
            "hidden": list(self.hidden),
            "field_dim": self.field_dim,
            "normalize": self.normalize,
            "temperature": self.temperature,
        }

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> TowerSpec:
        known = {"dim", "hidden", "field_dim", "normalize", "temperature"}
        unknown = set(d) - known
        if unknown:
            raise ValueError(f"TowerSpec: unknown key(s) {sorted(unknown)}")
        return TowerSpec(
            dim=int(d.get("dim", 64)),
            hidden=tuple(int(h) for h in d.get("hidden", (256, 128, 64))),
            field_dim=int(d.get("field_dim", 32)),
            normalize=bool(d.get("normalize", False)),
            temperature=float(d.get("temperature", 0.07)),
        )


@dataclass(frozen=True)
class FieldSpec:
    """One categorical feature field as a model sees it: its name, vocabulary size (including
    index 0 = unknown) and whether a row may hold several values."""

    name: str
    vocab_size: int
    multi: bool

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("FieldSpec.name must be non-empty")
        if self.vocab_size < 1:
            raise ValueError(
                f"FieldSpec {self.name!r}: vocab_size must be >= 1 (index 0 is <unk>), "
                f"got {self.vocab_size}"
            )

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "vocab_size": self.vocab_size, "multi": self.multi}

    @staticmethod
    def from_dict(d: Mapping[str, Any]) -> FieldSpec:
        return FieldSpec(
            name=str(d["name"]), vocab_size=int(d["vocab_size"]), multi=bool(d["multi"])
        )


def field_specs(table: FeatureTable) -> tuple[FieldSpec, ...]:
    """The field specs of a feature table, in the table's field order."""
    return tuple(FieldSpec(f.name, len(f.vocab), f.multi) for f in table.fields)
