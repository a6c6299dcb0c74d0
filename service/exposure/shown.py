"""The shown list that clicks are checked against, packed into one byte string per request.

Both stores keep exactly these bytes (Redis as one string key with a TTL, the memory store as a
``bytearray``), so they answer clicks the same way. Why packed: the list is kept for the whole
click window (``exposure.click_ttl_s``) for every request, so it is what Redis memory grows with;
as a hash of item-id strings it was ~300 bytes per request, packed it is ``HEADER + k/4 + 4k``
bytes of value (the README's sizing rule adds Redis' own per-key cost).

Layout (``k`` = list length ≤ 65535, ``m = ceil(k / 8)``):

====================  ==========================================================================
offset                content
====================  ==========================================================================
0                     format version (1), u8
1                     ``k``, u16 little-endian
3                     clicked bits, ``m`` bytes; bit ``j`` = position ``j`` was clicked
3 + m                 tail bits, ``m`` bytes; bit ``j`` = position ``j`` is a tail item
3 + 2m                catalogue id, u32 LE (``catalogue_id`` of the bundle's item ids)
7 + 2m                the ``k`` rows shown, int32 LE (row indices into that catalogue)
7 + 2m + 4k           the A/B bucket, UTF-8, to the end
====================  ==========================================================================

Bits are most-significant first within each byte, which is Redis' ``SETBIT`` order, so the
Redis store marks position ``j`` clicked atomically with ``SETBIT key (CLICKED_BIT + j) 1``.

Rows rather than ids: an id costs its length, a row 4 bytes. Rows only mean something in the
catalogue that served them, so the list names it (``catalogue_id``, a CRC-32 of the item ids in
row order: a retrained bundle over the same items keeps the id, a different catalogue does not),
and a click is matched through the row of its item in *that* catalogue. A click after a reload to
a different catalogue finds no catalogue and is refused like an expired one.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

VERSION = 1
CLICKED_BIT = 3 * 8  # bit offset of position 0's clicked flag (after version and k)
MAX_K = 0xFFFF
_HEAD = struct.Struct("<BH")


def catalogue_id(item_ids: Sequence[str]) -> int:
    """CRC-32 of the item ids in row order (NUL-separated: ids never contain NUL unnoticed)."""
    crc = 0
    for item in item_ids:
        crc = zlib.crc32(item.encode("utf-8") + b"\x00", crc)
    return crc


def encode(bucket: str, rows: Sequence[int], tail: Sequence[bool], catalogue: int) -> bytes:
    k = len(rows)
    if k != len(tail):
        raise ValueError("rows and tail must have the same length")
    if not 0 < k <= MAX_K:
        raise ValueError(f"a shown list holds 1..{MAX_K} items, got {k}")
    m = (k + 7) // 8
    tail_bits = np.packbits(np.asarray(tail, dtype=bool)).tobytes()  # MSB first, like SETBIT
    return b"".join(
        (
            _HEAD.pack(VERSION, k),
            bytes(m),
            tail_bits,
            struct.pack("<I", catalogue & 0xFFFFFFFF),
            np.asarray(rows, dtype="<i4").tobytes(),
            bucket.encode("utf-8"),
        )
    )


@dataclass(frozen=True)
class Shown:
    """One decoded shown list."""

    bucket: str
    catalogue: int
    rows: np.ndarray  # (k,) int32
    tail: np.ndarray  # (k,) bool
    clicked: np.ndarray  # (k,) bool

    @staticmethod
    def decode(raw: bytes | bytearray) -> Shown:
        version, k = _HEAD.unpack_from(raw, 0)
        if version != VERSION:
            raise ValueError(f"shown list format {version}, expected {VERSION}")
        m = (k + 7) // 8
        bits = np.frombuffer(raw, dtype=np.uint8, count=2 * m, offset=3)
        clicked = np.unpackbits(bits[:m], count=k).astype(bool)
        tail = np.unpackbits(bits[m:], count=k).astype(bool)
        (catalogue,) = struct.unpack_from("<I", raw, 3 + 2 * m)
        rows = np.frombuffer(raw, dtype="<i4", count=k, offset=7 + 2 * m)
        bucket = bytes(raw[7 + 2 * m + 4 * k :]).decode("utf-8")
        return Shown(bucket, catalogue, rows, tail, clicked)

    def position(self, item_id: str, catalogues: Mapping[int, Mapping[str, int]]) -> int | None:
        """Position of ``item_id`` in this list, through its row in the serving catalogue;
        None when the catalogue is not loaded (any more) or the item was not shown."""
        pos = catalogues.get(self.catalogue)
        row = None if pos is None else pos.get(item_id)
        if row is None:
            return None
        hits = np.flatnonzero(self.rows == row)
        return int(hits[0]) if len(hits) else None


def mark_clicked(raw: bytearray, position: int) -> bool:
    """Set position's clicked bit in place (the memory store); True if it was already set."""
    byte, bit = divmod(CLICKED_BIT + position, 8)
    mask = 0x80 >> bit
    was = bool(raw[byte] & mask)
    raw[byte] |= mask
    return was
