"""Raw request features -> one-row feature batch, for users the bundle has never seen.

Same rules as ``FeatureTable.encode_row`` (unknown value -> index 0, the field's default
embedding; a missing field -> unknown / empty; a single-valued field keeps its first value), but
on the request path it goes straight to the model's tensors: no intermediate one-row
``FeatureTable`` (with its per-field validation) is built per request. The vocabulary lookups are
``CategoricalField.index_of``'s, built once per field.

A cold user is embedded from these features only; ``history`` is used to exclude items, not to
build the query (the towers take no history input).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch

from models.feature_batch import FeatureBatch, FieldBatch
from models.feature_table import FeatureTable


class UnknownFeature(KeyError):
    def __init__(self, names: list[str], valid: tuple[str, ...]) -> None:
        super().__init__(f"unknown feature field(s) {names}; fields are {list(valid)}")
        self.names = names
        self.valid = valid


class ColdStartFeatures:
    def __init__(self, table: FeatureTable) -> None:
        self.names: tuple[str, ...] = table.names
        self._multi = {f.name: f.multi for f in table.fields}
        self._lookup = {f.name: f.index_of() for f in table.fields}

    def check(self, raw: Mapping[str, str | Sequence[str]]) -> None:
        unknown = sorted(set(raw) - set(self.names))
        if unknown:
            raise UnknownFeature(unknown, self.names)

    def batch(self, raw: Mapping[str, str | Sequence[str]]) -> FeatureBatch:
        self.check(raw)
        out: FeatureBatch = {}
        for name in self.names:
            value = raw.get(name)
            values = [value] if isinstance(value, str) else list(value or ())
            lookup = self._lookup[name]
            idx = [lookup.get(v, 0) for v in values]
            if not self._multi[name]:
                idx = idx[:1] or [0]
            out[name] = FieldBatch(
                torch.tensor(idx, dtype=torch.int64), torch.tensor([0, len(idx)], dtype=torch.int64)
            )
        return out
