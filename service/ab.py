"""A/B bucket assignment: a stable, salted hash of ``user_id`` over the bucket weights.

The hash is SHA-256 of ``salt + "\\x00" + user_id`` (never Python's ``hash()``, which is salted per
process), read as a 64-bit integer and scaled to [0, 1). Buckets own consecutive slices of [0, 1)
proportional to their weights, in the order they appear in the config. So the same user lands in
the same bucket across restarts and replicas, and the observed split converges to the weights.
Reordering buckets or changing weights moves users; changing the salt reshuffles everyone.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Mapping

_SCALE = float(2**64)


class UnknownBucket(LookupError):
    def __init__(self, name: str, valid: tuple[str, ...]) -> None:
        super().__init__(f"unknown bucket {name!r}; valid buckets are {', '.join(valid)}")
        self.name = name
        self.valid = valid


class BucketAssigner:
    def __init__(self, weights: Mapping[str, float], salt: str) -> None:
        if not weights:
            raise ValueError("at least one bucket is needed")
        if any(not w > 0 for w in weights.values()):
            raise ValueError(f"bucket weights must be positive: {dict(weights)}")
        self.names: tuple[str, ...] = tuple(weights)
        self._salt = salt.encode("utf-8")
        total = sum(weights.values())
        bounds: list[float] = []
        acc = 0.0
        for name in self.names:
            acc += weights[name] / total
            bounds.append(acc)
        bounds[-1] = 1.0  # float rounding must never leave a gap at the top
        self._bounds = bounds

    def point(self, user_id: str) -> float:
        """The user's position in [0, 1)."""
        digest = hashlib.sha256(self._salt + b"\x00" + user_id.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") / _SCALE

    def assign(self, user_id: str) -> str:
        return self.names[bisect.bisect_right(self._bounds, self.point(user_id))]

    def resolve(self, user_id: str, forced: str | None) -> str:
        """The bucket for a request: the forced one (validated), else the user's hash."""
        if forced is None:
            return self.assign(user_id)
        if forced not in self.names:
            raise UnknownBucket(forced, self.names)
        return forced
