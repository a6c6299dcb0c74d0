"""Batches of categorical features as torch tensors, and the table they are gathered from.

A :class:`FeatureBatch` maps each field name to a :class:`FieldBatch` in CSR form, the layout
``nn.EmbeddingBag`` consumes directly. :class:`TensorTable` keeps a whole
:class:`~models.feature_table.FeatureTable` as tensors (on any device) so a training batch of rows
is gathered with a few vectorised index operations per field, no Python loop over rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from models.feature_table import FeatureTable


@dataclass
class FieldBatch:
    """One field over a batch of B rows: ``values`` int64 ``[nnz]`` (vocabulary indices),
    ``offsets`` int64 ``[B + 1]`` with row ``b`` = ``values[offsets[b]:offsets[b + 1]]``."""

    values: Tensor
    offsets: Tensor

    @property
    def batch_size(self) -> int:
        return int(self.offsets.shape[0]) - 1

    @property
    def lengths(self) -> Tensor:
        """Values per row, int64 ``[B]``."""
        return self.offsets[1:] - self.offsets[:-1]

    def to(self, device: torch.device | str) -> FieldBatch:
        return FieldBatch(self.values.to(device), self.offsets.to(device))


FeatureBatch = dict[str, FieldBatch]


def _gather_csr(values: Tensor, offsets: Tensor, rows: Tensor) -> FieldBatch:
    """Rows ``rows`` ([B]) of a CSR field, as a new CSR batch.

    The value positions of the output are ``start[row(p)] + (p - new_offsets[row(p)])`` for each
    output position p; both terms are built with one repeat_interleave over the row lengths.
    """
    starts = offsets[rows]  # [B]
    lengths = offsets[rows + 1] - starts  # [B]
    new_offsets = torch.zeros(rows.shape[0] + 1, dtype=torch.int64, device=offsets.device)
    torch.cumsum(lengths, 0, out=new_offsets[1:])
    total = int(new_offsets[-1])
    # shift[p] = starts[row(p)] - new_offsets[row(p)]  -> source position = p + shift[p]
    shift = torch.repeat_interleave(starts - new_offsets[:-1], lengths, output_size=total)
    positions = torch.arange(total, dtype=torch.int64, device=offsets.device) + shift
    return FieldBatch(values[positions], new_offsets)


class TensorTable:
    """A :class:`FeatureTable` as int64 tensors, one (values, offsets) pair per field."""

    def __init__(
        self,
        names: tuple[str, ...],
        values: tuple[Tensor, ...],
        offsets: tuple[Tensor, ...],
        single: tuple[bool, ...],
        n_rows: int,
    ) -> None:
        self._names = names
        self._values = values
        self._offsets = offsets
        # Single-valued fields have offsets == arange, so gathering them is a plain index.
        self._single = single
        self._n_rows = n_rows

    @staticmethod
    def from_table(table: FeatureTable, device: torch.device | str = "cpu") -> TensorTable:
        single = tuple(bool((f.lengths == 1).all()) for f in table.fields)
        return TensorTable(
            names=table.names,
            values=tuple(
                torch.as_tensor(f.values, dtype=torch.int64).to(device) for f in table.fields
            ),
            offsets=tuple(
                torch.as_tensor(f.offsets, dtype=torch.int64).to(device) for f in table.fields
            ),
            single=single,
            n_rows=table.n_rows,
        )

    @property
    def n_rows(self) -> int:
        return self._n_rows

    @property
    def names(self) -> tuple[str, ...]:
        return self._names

    @property
    def device(self) -> torch.device:
        return self._values[0].device if self._values else torch.device("cpu")

    def to(self, device: torch.device | str) -> TensorTable:
        return TensorTable(
            self._names,
            tuple(v.to(device) for v in self._values),
            tuple(o.to(device) for o in self._offsets),
            self._single,
            self._n_rows,
        )

    def gather(self, rows: Tensor) -> FeatureBatch:
        """The feature rows ``rows`` (int64 ``[B]``, any order, repeats allowed) as a batch."""
        if rows.dim() != 1:
            raise ValueError(f"gather: rows must be 1-D, got shape {tuple(rows.shape)}")
        rows = rows.to(device=self.device, dtype=torch.int64)
        if rows.numel() and (int(rows.min()) < 0 or int(rows.max()) >= self._n_rows):
            raise IndexError(
                f"gather: row index out of range [0, {self._n_rows}): "
                f"min {int(rows.min())}, max {int(rows.max())}"
            )
        out: FeatureBatch = {}
        arange = torch.arange(rows.shape[0] + 1, dtype=torch.int64, device=self.device)
        for name, vals, offs, single in zip(
            self._names, self._values, self._offsets, self._single, strict=True
        ):
            if single:
                out[name] = FieldBatch(vals[rows], arange)
            else:
                out[name] = _gather_csr(vals, offs, rows)
        return out

    def all_rows(self) -> FeatureBatch:
        """Every row, in order (e.g. to embed the whole catalogue in chunks, gather ranges)."""
        return self.gather(torch.arange(self._n_rows, dtype=torch.int64, device=self.device))


def batch_from_table(table: FeatureTable, device: torch.device | str = "cpu") -> FeatureBatch:
    """All rows of a (small, ad-hoc) table as a batch, e.g. a cold-start user's one-row table."""
    return {
        f.name: FieldBatch(
            torch.as_tensor(f.values, dtype=torch.int64).to(device),
            torch.as_tensor(f.offsets, dtype=torch.int64).to(device),
        )
        for f in table.fields
    }
