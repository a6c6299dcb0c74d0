"""Categorical feature tables: the one representation of user and item features.

Every feature is categorical (single- or multi-valued). A field stores vocabulary indices in CSR
form so that a batch of rows can be gathered with vectorised index arithmetic and fed straight to
an ``nn.EmbeddingBag``.

Index 0 of every vocabulary is reserved for "missing / unknown": a value that is not in the
vocabulary (e.g. a cold-start user's unseen zip code) maps to 0, and a row with no values at all
(an empty multi-valued field) is represented by an empty bag. Both end up at the field's learned
default embedding in the model, never at an error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

UNKNOWN = "<unk>"


@dataclass(frozen=True)
class CategoricalField:
    """One categorical field over ``n_rows`` rows.

    ``values`` holds vocabulary indices (int64, flat, ``[nnz]``); ``offsets`` (int64,
    ``[n_rows + 1]``) delimits row ``r`` as ``values[offsets[r]:offsets[r + 1]]``. A single-valued
    field has exactly one value per row (possibly 0 = unknown); a multi-valued field may have any
    number, including none.
    """

    name: str
    vocab: tuple[str, ...]
    multi: bool
    values: np.ndarray
    offsets: np.ndarray

    def __post_init__(self) -> None:
        if not self.vocab or self.vocab[0] != UNKNOWN:
            raise ValueError(f"field {self.name!r}: vocab[0] must be {UNKNOWN!r}")
        if self.values.dtype != np.int64 or self.offsets.dtype != np.int64:
            raise ValueError(f"field {self.name!r}: values and offsets must be int64")
        if self.offsets.ndim != 1 or len(self.offsets) < 1 or self.offsets[0] != 0:
            raise ValueError(f"field {self.name!r}: offsets must start at 0")
        if self.offsets[-1] != len(self.values):
            raise ValueError(f"field {self.name!r}: offsets[-1] != len(values)")
        if len(self.values) and (self.values.min() < 0 or self.values.max() >= len(self.vocab)):
            raise ValueError(f"field {self.name!r}: value index outside the vocabulary")
        if not self.multi and not np.all(np.diff(self.offsets) == 1):
            raise ValueError(f"field {self.name!r}: single-valued field needs one value per row")

    @property
    def n_rows(self) -> int:
        return len(self.offsets) - 1

    @property
    def lengths(self) -> np.ndarray:
        """Values per row, int64 ``[n_rows]``."""
        return np.diff(self.offsets)

    def row(self, r: int) -> list[str]:
        """The values of row ``r`` as strings (unknown values included as ``<unk>``)."""
        return [self.vocab[v] for v in self.values[self.offsets[r] : self.offsets[r + 1]]]

    def index_of(self) -> dict[str, int]:
        """Vocabulary lookup, value string -> index (built once per field, then reused: cold-start
        encoding calls this per request)."""
        cached: dict[str, int] | None = self.__dict__.get("_index")
        if cached is None:
            cached = {v: i for i, v in enumerate(self.vocab)}
            object.__setattr__(self, "_index", cached)  # a cache, not state: frozen stays frozen
        return cached

    def encode(self, raw: str | Sequence[str] | None) -> np.ndarray:
        """Encode one row's raw value(s) with this field's vocabulary (unknown -> 0)."""
        lookup = self.index_of()
        if raw is None:
            items: list[str] = []
        elif isinstance(raw, str):
            items = [raw]
        else:
            items = list(raw)
        if not self.multi and len(items) != 1:
            items = items[:1] if items else [UNKNOWN]
        return np.asarray([lookup.get(v, 0) for v in items], dtype=np.int64)

    @staticmethod
    def from_single(name: str, raw: Sequence[str | None]) -> CategoricalField:
        """Build a single-valued field from one raw string per row (``None`` / '' -> unknown)."""
        vocab_list = sorted({v for v in raw if v})
        lookup = {v: i + 1 for i, v in enumerate(vocab_list)}
        values = np.fromiter((lookup.get(v, 0) if v else 0 for v in raw), np.int64, len(raw))
        return CategoricalField(
            name=name,
            vocab=(UNKNOWN, *vocab_list),
            multi=False,
            values=values,
            offsets=np.arange(len(raw) + 1, dtype=np.int64),
        )

    @staticmethod
    def from_multi(name: str, raw: Sequence[Sequence[str]]) -> CategoricalField:
        """Build a multi-valued field from a list of raw strings per row (empty rows allowed)."""
        vocab_list = sorted({v for row in raw for v in row if v})
        lookup = {v: i + 1 for i, v in enumerate(vocab_list)}
        lengths = np.fromiter((sum(1 for v in row if v) for row in raw), np.int64, len(raw))
        offsets = np.zeros(len(raw) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = np.fromiter(
            (lookup[v] for row in raw for v in row if v), np.int64, int(offsets[-1])
        )
        return CategoricalField(
            name=name, vocab=(UNKNOWN, *vocab_list), multi=True, values=values, offsets=offsets
        )


@dataclass(frozen=True)
class FeatureTable:
    """Named categorical fields over the same rows (users or items, in index order)."""

    fields: tuple[CategoricalField, ...]

    def __post_init__(self) -> None:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate field names: {names}")
        rows = {f.n_rows for f in self.fields}
        if len(rows) > 1:
            raise ValueError(f"fields disagree on the number of rows: {rows}")

    @property
    def n_rows(self) -> int:
        return self.fields[0].n_rows if self.fields else 0

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def __getitem__(self, name: str) -> CategoricalField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(f"no feature field {name!r}; fields are {list(self.names)}")

    def encode_row(self, raw: Mapping[str, str | Sequence[str] | None]) -> FeatureTable:
        """A one-row table for raw feature values (missing fields -> unknown / empty)."""
        unknown = set(raw) - set(self.names)
        if unknown:
            raise KeyError(
                f"unknown feature field(s) {sorted(unknown)}; fields are {list(self.names)}"
            )
        out = []
        for f in self.fields:
            vals = (
                f.encode(raw.get(f.name))
                if f.name in raw
                else (np.zeros(0, np.int64) if f.multi else np.zeros(1, np.int64))
            )
            out.append(
                CategoricalField(
                    name=f.name,
                    vocab=f.vocab,
                    multi=f.multi,
                    values=vals,
                    offsets=np.asarray([0, len(vals)], dtype=np.int64),
                )
            )
        return FeatureTable(tuple(out))
