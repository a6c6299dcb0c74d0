"""Delimited text files with a header row, parsed by Python's ``csv`` module, with line numbers.

Used by the Book-Crossing loader and the generic ``csv`` loader. Every row keeps the 1-based line
it starts on so that errors can name it. A quoted field may contain the delimiter (and, unless
``single_line``, a newline). Formats that are line-based (Book-Crossing) set ``single_line``: a
row spanning lines there means an unbalanced quote, i.e. a malformed line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from training.data.errors import DataError
from training.data.text_file import decode, read_bytes

# A repair gets one raw line (no terminator) and returns the fixed line, or None if it has no
# defect it knows.
Repair = Callable[[str], str | None]


@dataclass(frozen=True)
class CsvRows:
    """The header and data rows of one file; every row has ``len(header)`` fields."""

    path: Path
    delimiter: str
    header: tuple[str, ...]
    rows: list[list[str]]
    line_numbers: list[int]  # 1-based line each row starts on, aligned with rows
    repaired: int  # lines changed by the repair function

    def column(self, name: str) -> int:
        """Index of column ``name``; else a DataError naming it, the file and the columns found."""
        try:
            return self.header.index(name)
        except ValueError:
            raise DataError(
                f"no column {name!r}; columns found: {list(self.header)}", path=self.path
            ) from None


def _parse_line(line: str, delimiter: str) -> list[str] | None:
    """One line on its own; ``None`` when a quote opened on it is not closed on it."""
    # A second line is offered: a reader that needs it to finish the row ran into an open quote.
    reader = csv.reader([line + "\n", "\n"], delimiter=delimiter, quotechar='"')
    row = next(reader, [])
    return None if reader.line_num > 1 else row


def read_csv_rows(
    path: Path,
    *,
    delimiter: str,
    encoding: str,
    required: Sequence[str],
    single_line: bool = False,
    repair: Repair | None = None,
    trailing_sep: bool = False,
) -> CsvRows:
    """Read ``path``: header row first (blank lines skipped), then data rows.

    Errors (all DataError naming ``path``): missing file; a header of a single column when
    ``required`` asks for more (``wrong separator? expected ';'``); a missing required column
    (listing the columns found); a row with a different number of fields than the header, or
    (``single_line``) a quote not closed on its line, naming the line. ``repair`` is applied to
    every line before parsing, for a format's known defects. ``trailing_sep``: a separator at
    the end of every line (an empty last field on every row, beyond the header's columns) is
    dropped instead of being a field-count error.
    """
    if len(delimiter) != 1:
        raise DataError(f"the separator must be a single character, got {delimiter!r}", path=path)
    text = decode(read_bytes(path), encoding, path)
    if text.startswith("\ufeff"):
        text = text[1:]
    # newline="" keeps "\r\n" inside lines for csv and never splits on other Unicode breaks, so
    # line numbers match what an editor shows.
    lines = list(io.StringIO(text, newline=""))
    repaired = 0
    if repair is not None:
        # Known defects of a format are fixed line by line before parsing; lines stay 1:1.
        for k, line in enumerate(lines):
            body = line.rstrip("\r\n")
            fixed = repair(body)
            if fixed is not None and fixed != body:
                lines[k] = fixed + line[len(body) :]
                repaired += 1
    if trailing_sep:
        repaired += _strip_trailing_separator(lines, delimiter)
    fast = _read_simple(path, lines, delimiter, required)
    if fast is not None:
        return CsvRows(path, delimiter, fast[0], fast[1], fast[2], repaired)
    reader = csv.reader(lines, delimiter=delimiter, quotechar='"')

    header: tuple[str, ...] | None = None
    rows: list[list[str]] = []
    numbers: list[int] = []
    consumed = 0  # lines read so far (reader.line_num after the previous row)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise DataError(f"cannot parse: {e}", path=path, line=consumed + 1) from None
        start, end = consumed + 1, reader.line_num
        consumed = end
        if not row or (len(row) == 1 and not row[0].strip() and header is not None):
            continue  # blank line
        if header is None:
            header = tuple(h.strip() for h in row)
            _check_header(path, start, header, delimiter, required)
            continue
        if len(row) == len(header) and (end == start or not single_line):
            rows.append(row)
            numbers.append(start)
            continue
        # Wrong field count, or (line-based formats) an unbalanced quote that ran over lines:
        # re-read each affected line on its own.
        for number in range(start, end + 1):
            raw = lines[number - 1].rstrip("\r\n")
            if not raw.strip():
                continue
            fields = _parse_line(raw, delimiter)
            if fields is None:
                raise DataError(
                    "unbalanced quote: a quoted field is not closed on this line",
                    path=path,
                    line=number,
                )
            if len(fields) != len(header):
                raise DataError(
                    f"expected {len(header)} {delimiter!r}-separated fields (as in the header), "
                    f"got {len(fields)}",
                    path=path,
                    line=number,
                )
            rows.append(fields)
            numbers.append(number)
    if header is None:
        raise DataError("empty file: expected a header row", path=path)
    return CsvRows(path, delimiter, header, rows, numbers, repaired)


def _strip_trailing_separator(lines: list[str], delimiter: str) -> int:
    """Drop one trailing ``delimiter`` from every line when each non-blank line ends in an empty
    field beyond the header's names (the header itself may end in the separator or not). Lines are
    changed in place; returns how many were changed (0 when the file has no such convention)."""
    rows = list(csv.reader(lines, delimiter=delimiter, quotechar='"'))
    if len(rows) != len(lines):
        return 0  # a quoted newline: leave the file to the line-tracking path
    filled = [(k, r) for k, r in enumerate(rows) if r and any(f.strip() for f in r)]
    if len(filled) < 2:
        return 0
    header = filled[0][1]
    width = len(header) - 1 if not header[-1].strip() else len(header)  # named columns
    if any(len(r) != width + 1 or r[-1].strip() for _, r in filled[1:]):
        return 0
    changed = 0
    for k, r in filled:
        if len(r) == width + 1:
            body = lines[k].rstrip("\r\n")
            if body.rstrip().endswith(delimiter):
                stripped = body.rstrip()[: -len(delimiter)]
                lines[k] = stripped + lines[k][len(body) :]
                changed += 1
    return changed


def _read_simple(
    path: Path, lines: list[str], delimiter: str, required: Sequence[str]
) -> tuple[tuple[str, ...], list[list[str]], list[int]] | None:
    """The common case in one C-speed pass: header on line 1, one row per line, no blank lines,
    every row as wide as the header. ``None`` sends the file to the line-tracking path."""
    rows = list(csv.reader(lines, delimiter=delimiter, quotechar='"'))
    if len(rows) != len(lines) or not rows or not rows[0]:
        return None  # a row spanning lines, or an empty file
    header = tuple(h.strip() for h in rows[0])
    width = len(header)
    if any(len(r) != width for r in rows):
        return None
    _check_header(path, 1, header, delimiter, required)
    return header, rows[1:], list(range(2, len(rows) + 1))


def _check_header(
    path: Path, line: int, header: tuple[str, ...], delimiter: str, required: Sequence[str]
) -> None:
    if len(header) == 1 and len(required) > 1:
        raise DataError(
            f"header has a single column {header[0]!r} but {len(required)} are needed "
            f"({', '.join(repr(r) for r in required)}): wrong separator? expected {delimiter!r}",
            path=path,
            line=line,
        )
    duplicates = sorted({h for h in header if header.count(h) > 1})
    if duplicates:
        raise DataError(
            f"duplicate column name(s) {duplicates} in the header", path=path, line=line
        )
    for name in required:
        if name not in header:
            raise DataError(f"no column {name!r}; columns found: {list(header)}", path=path)
