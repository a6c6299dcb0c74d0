"""Vectorised reader for files of integer fields split by a fixed separator (ML ``::``, tab).

ML-1M's ``ratings.dat`` has a million lines, so the happy path never loops over lines in Python:
field counts per line come from byte positions (``np.flatnonzero`` + ``np.searchsorted``) and the
numbers from one ``np.fromstring`` call. Only when that fails does a per-line pass run, to name the
first bad line and field.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from training.data.errors import DataError
from training.data.text_file import read_bytes

_INT64 = np.iinfo(np.int64)


@dataclass(frozen=True)
class IntTable:
    """Rows of a file, blank lines skipped."""

    values: np.ndarray  # int64 [n_rows, n_fields]
    line_numbers: np.ndarray  # int64 [n_rows], the 1-based file line of each row

    @property
    def n_fields(self) -> int:
        return int(self.values.shape[1])


def _expected(allowed: Sequence[int], sep: str) -> str:
    counts = " or ".join(str(a) for a in allowed)
    return f"expected {counts} {sep!r}-separated fields"


def _field_count_error(
    path: Path, line: int, got: int, allowed: Sequence[int], sep: str, first: tuple[int, int] | None
) -> DataError:
    if first is not None and got in allowed:
        # A valid count on its own, but the file's first row chose the other layout.
        detail = f"expected {first[1]} {sep!r}-separated fields (like line {first[0]}), got {got}"
    else:
        detail = f"{_expected(allowed, sep)}, got {got}"
        if got == 1:
            detail += f" (wrong separator? expected {sep!r})"
    return DataError(detail, path=path, line=line)


def read_int_table(
    path: Path, sep: str, field_names: Sequence[str], allowed: Sequence[int]
) -> IntTable:
    """Parse ``path`` as lines of integers separated by ``sep``.

    ``allowed`` lists the acceptable field counts (ML-1M ratings: 3 or 4); every row must have
    the count of the first row. ``field_names`` (at least ``max(allowed)`` long) name fields in
    error messages. Raises DataError naming the file and the 1-based line of the first problem.
    """
    raw = read_bytes(path)
    if b"\r" in raw:
        raw = raw.replace(b"\r\n", b"\n")
    buf = np.frombuffer(raw, dtype=np.uint8)  # [n_bytes]
    newlines = np.flatnonzero(buf == ord("\n"))
    starts = np.concatenate([[0], newlines + 1])  # [n_lines + 1] (last may be an empty tail)
    ends = np.concatenate([newlines, [len(buf)]])
    if len(raw) and raw.endswith(b"\n"):
        starts, ends = starts[:-1], ends[:-1]
    elif not len(raw):
        starts, ends = starts[:0], ends[:0]

    # Separator occurrences at byte positions p with p + len(sep) <= line end.
    sep_b = sep.encode("latin-1")
    width = len(sep_b)
    if len(buf) >= width:
        hit = np.ones(len(buf) - width + 1, dtype=bool)
        for j, ch in enumerate(sep_b):
            hit &= buf[j : len(buf) - width + 1 + j] == ch
        positions = np.flatnonzero(hit)
    else:
        positions = np.zeros(0, dtype=np.int64)
    n_seps = np.searchsorted(positions, ends - width + 1) - np.searchsorted(positions, starts)
    n_fields = np.maximum(n_seps, 0) + 1  # [n_lines]

    nonblank = np.flatnonzero(ends > starts)
    if len(nonblank) == 0:
        raise DataError("no data lines (empty file)", path=path)
    line_numbers = (nonblank + 1).astype(np.int64)
    counts = n_fields[nonblank]
    k = int(counts[0])
    if k not in allowed:
        raise _field_count_error(path, int(line_numbers[0]), k, allowed, sep, None)
    bad = np.flatnonzero(counts != k)
    if len(bad):
        i = int(bad[0])
        raise _field_count_error(
            path, int(line_numbers[i]), int(counts[i]), allowed, sep, (int(line_numbers[0]), k)
        )

    text = raw.decode("latin-1")
    expected_n = len(nonblank) * k
    flat: np.ndarray | None
    try:
        with warnings.catch_warnings():
            # numpy warns (and returns a prefix) when a token is not an integer.
            warnings.simplefilter("error")
            flat = np.fromstring(text.replace(sep, " "), dtype=np.int64, sep=" ")
    except (ValueError, DeprecationWarning):
        flat = None
    if (
        flat is None
        or len(flat) != expected_n
        or (len(flat) and (flat.max() == _INT64.max or flat.min() == _INT64.min))
    ):
        flat = _parse_slow(text, sep, k, field_names, path)
    return IntTable(values=flat.reshape(-1, k), line_numbers=line_numbers)


def _parse_slow(text: str, sep: str, k: int, field_names: Sequence[str], path: Path) -> np.ndarray:
    """Per-line parse; finds the first bad field (the fast path already checked field counts)."""
    out: list[int] = []
    for number, line in enumerate(text.split("\n"), start=1):
        if not line:
            continue
        parts = line.split(sep)
        for name, part in zip(field_names, parts, strict=False):
            try:
                value = int(part)
            except ValueError:
                raise DataError(
                    f"field {name!r} is not an integer: {part!r}", path=path, line=number
                ) from None
            if not _INT64.min < value < _INT64.max:
                raise DataError(f"field {name!r} out of range: {part!r}", path=path, line=number)
            out.append(value)
    if len(out) % k:
        raise DataError(f"inconsistent number of fields (expected {k} per line)", path=path)
    return np.asarray(out, dtype=np.int64)
