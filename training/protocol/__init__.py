"""The evaluation protocol's version and defaults (see docs/protocol.md).

``PROTOCOL_VERSION`` goes into every results file and bundle manifest. Bump it, on purpose, whenever
a change would make new numbers incomparable with old ones: the split, the exclusion rule, the tie
rule, a metric's formula or the head/tail definition.
"""

from __future__ import annotations

from typing import Final

PROTOCOL_VERSION: Final[int] = 1

# Cut-offs K of every ranking and exposure metric.
DEFAULT_KS: Final[tuple[int, ...]] = (10, 20, 50)

# Slices of the test users by the popularity of their held-out item.
SLICES: Final[tuple[str, ...]] = ("all", "head", "tail")

# Share of the catalogue (by training count) that is "head".
DEFAULT_HEAD_FRACTION: Final[float] = 0.2
