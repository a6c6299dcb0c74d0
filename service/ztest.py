"""Two-proportion z-test, pooled, two-sided: is a bucket's click-through different from control's?

Undefined cases (a side with no impressions, or a pooled rate of exactly 0 or 1, where the standard
error is zero) give ``z = p_value = None`` rather than a division by zero or a NaN that JSON cannot
carry.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ZTest:
    rate_a: float | None
    rate_b: float | None
    diff: float | None  # rate_b - rate_a
    z: float | None
    p_value: float | None


def _rate(successes: int, trials: int) -> float | None:
    return successes / trials if trials > 0 else None


def two_proportion_ztest(successes_a: int, trials_a: int, successes_b: int, trials_b: int) -> ZTest:
    """Compare b against a (a = control)."""
    for name, s, n in (("a", successes_a, trials_a), ("b", successes_b, trials_b)):
        if n < 0 or s < 0 or s > n:
            raise ValueError(f"{name}: need 0 <= successes ({s}) <= trials ({n})")
    ra, rb = _rate(successes_a, trials_a), _rate(successes_b, trials_b)
    if ra is None or rb is None:
        return ZTest(ra, rb, None, None, None)
    pooled = (successes_a + successes_b) / (trials_a + trials_b)
    se = math.sqrt(pooled * (1.0 - pooled) * (1.0 / trials_a + 1.0 / trials_b))
    if se == 0.0:
        return ZTest(ra, rb, rb - ra, None, None)
    z = (rb - ra) / se
    # Two-sided: P(|Z| >= |z|) = erfc(|z| / sqrt 2).
    return ZTest(ra, rb, rb - ra, z, math.erfc(abs(z) / math.sqrt(2.0)))
