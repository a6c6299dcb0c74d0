"""Reading a whole data file as text, with errors that name the file (and line, for bad bytes)."""

from __future__ import annotations

from pathlib import Path

from training.data.errors import DataError


def require_file(path: Path) -> Path:
    """``path`` if it is an existing file, else a DataError naming it."""
    if not path.exists():
        raise DataError("file not found", path=path)
    if not path.is_file():
        raise DataError("not a regular file", path=path)
    return path


def read_bytes(path: Path) -> bytes:
    """The raw content of ``path`` (missing file -> DataError naming the path)."""
    require_file(path)
    try:
        return path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read: {e.strerror}", path=path) from None


def decode(raw: bytes, encoding: str, path: Path) -> str:
    """Decode ``raw``; an undecodable byte is a DataError naming its 1-based line."""
    try:
        return raw.decode(encoding)
    except LookupError:
        raise DataError(f"unknown encoding {encoding!r}", path=path) from None
    except UnicodeDecodeError as e:
        line = raw.count(b"\n", 0, e.start) + 1
        raise DataError(
            f"cannot decode byte {raw[e.start : e.start + 1]!r} as {encoding} "
            "(wrong encoding? e.g. latin-1)",
            path=path,
            line=line,
        ) from None


def read_lines(path: Path, encoding: str) -> list[str]:
    """The file's lines without line terminators (``\\n`` or ``\\r\\n``); a final newline adds
    no empty line. Line ``k`` (1-based) of the file is ``lines[k - 1]``."""
    text = decode(read_bytes(path), encoding, path)
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [ln[:-1] if ln.endswith("\r") else ln for ln in lines]
    return lines
