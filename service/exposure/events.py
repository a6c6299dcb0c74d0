"""The records an exposure store keeps and returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from enum import StrEnum


@dataclass(frozen=True)
class Exposure:
    """One served recommendation list in one bucket."""

    bucket: str
    request_id: str
    item_ids: tuple[str, ...]
    tail: tuple[bool, ...]  # per item, the bundle's head/tail label
    at: float  # unix seconds
    rows: tuple[int, ...]  # per item, its row in the serving catalogue (what the shown list keeps)
    catalogue: int  # service.exposure.shown.catalogue_id of that catalogue

    def __post_init__(self) -> None:
        if not len(self.item_ids) == len(self.tail) == len(self.rows):
            raise ValueError("item_ids, tail and rows must have the same length")


@dataclass(frozen=True)
class Click:
    request_id: str
    item_id: str
    at: float
    # catalogue id -> (item id -> row), for every catalogue served now: how the clicked item is
    # found among the rows a shown list keeps (service/exposure/shown.py).
    catalogues: Mapping[int, Mapping[str, int]]


class ClickOutcome(StrEnum):
    COUNTED = "counted"
    DUPLICATE = "duplicate"  # this item of this request was already clicked: counted once only
    NOT_SHOWN = "not_shown"  # unknown or expired request, or an item it did not show


@dataclass(frozen=True)
class ClickResult:
    outcome: ClickOutcome
    bucket: str | None = None
    tail: bool | None = None


@dataclass
class Counts:
    """The counters of one bucket and time bucket; the field names are also the Redis hash
    fields (``COUNTERS``)."""

    requests: int = 0
    impressions: int = 0
    head_impressions: int = 0
    tail_impressions: int = 0
    clicks: int = 0
    head_clicks: int = 0
    tail_clicks: int = 0

    def add_exposure(self, e: Exposure) -> None:
        """Count one served list: one request, its impressions split by the head/tail label."""
        n_tail = sum(e.tail)
        self.requests += 1
        self.impressions += len(e.item_ids)
        self.tail_impressions += n_tail
        self.head_impressions += len(e.item_ids) - n_tail

    def add(self, other: Counts) -> None:
        for name in COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @staticmethod
    def from_mapping(raw: dict[str, int]) -> Counts:
        return Counts(**{k: int(v) for k, v in raw.items() if k in COUNTERS})

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) for name in COUNTERS}


# Counter names, shared by both stores (they are also the Redis hash fields), in field order.
COUNTERS: tuple[str, ...] = tuple(f.name for f in fields(Counts))


@dataclass
class BucketWindow:
    """Everything a store knows about one bucket over a time window."""

    totals: Counts = field(default_factory=Counts)
    series: list[tuple[int, Counts]] = field(default_factory=list)  # (time-bucket start, counts)
    item_counts: dict[str, int] = field(default_factory=dict)  # impressions per item
