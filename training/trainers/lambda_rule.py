"""How MIRec's validation sweep picks the served λ_p (``mirec.lambda_p_rule``).

- ``overall``: the λ_p with the best overall validation NDCG@50 (ties: the first in sweep order).
- ``tail_at_budget``: among the λ_p whose overall validation NDCG@50 is at least
  ``(1 − ε) · best``, the one with the best tail validation HR@50 (ties: the better overall
  NDCG@50, then the first in sweep order). ε = 0 reduces to ``overall`` up to ties.

Sweep rows carry ``lambda_p``, ``all_NDCG@50`` and ``tail_HR@50`` (training/trainers/mirec.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal


def choose_lambda_p(
    rows: Sequence[dict[str, Any]],
    rule: Literal["overall", "tail_at_budget"],
    epsilon: float = 0.01,
) -> float:
    if not rows:
        raise ValueError("choose_lambda_p: empty sweep")
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"choose_lambda_p: epsilon must be in [0, 1], got {epsilon}")
    best_overall = max(float(r["all_NDCG@50"]) for r in rows)
    if rule == "overall":
        chosen = next(r for r in rows if float(r["all_NDCG@50"]) == best_overall)
        return float(chosen["lambda_p"])
    if rule != "tail_at_budget":
        raise ValueError(f"choose_lambda_p: unknown rule {rule!r}")
    floor = (1.0 - epsilon) * best_overall
    eligible = [r for r in rows if float(r["all_NDCG@50"]) >= floor]
    # max() keeps the first of equal keys: sweep order breaks the remaining ties.
    chosen = max(eligible, key=lambda r: (float(r["tail_HR@50"]), float(r["all_NDCG@50"])))
    return float(chosen["lambda_p"])
