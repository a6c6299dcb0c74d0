"""The one error type every dataset loader raises for bad input.

A ``DataError`` is a ``ValueError`` whose message starts with the file (and, where a single line
is at fault, its 1-based line number), e.g.
``/data/ml-1m/ratings.dat line 17: expected 3 or 4 '::'-separated fields, got 2``, so that a user
can open the file at the right place without reading a traceback.
"""

from __future__ import annotations

from pathlib import Path


class DataError(ValueError):
    """Bad or missing input data. ``path`` and ``line`` (1-based) are kept for callers and tests."""

    def __init__(self, detail: str, *, path: str | Path | None = None, line: int | None = None):
        self.detail = detail
        self.path = str(path) if path is not None else None
        self.line = line
        if self.path is not None and line is not None:
            message = f"{self.path} line {line}: {detail}"
        elif self.path is not None:
            message = f"{self.path}: {detail}"
        else:
            message = detail
        super().__init__(message)
