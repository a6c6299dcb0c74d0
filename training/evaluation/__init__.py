"""Offline evaluation: full-ranking accuracy metrics and exposure metrics (docs/protocol.md)."""

from __future__ import annotations

from training.evaluation.evaluator import EvalResult, Scorer, evaluate, rank_targets
from training.evaluation.exposure import (
    coverage,
    exposure_metrics,
    gini,
    recommendation_counts,
    tail_share,
)
from training.evaluation.metrics import average_precision, hit_rate, ndcg, ranking_metrics

__all__ = [
    "EvalResult",
    "Scorer",
    "average_precision",
    "coverage",
    "evaluate",
    "exposure_metrics",
    "gini",
    "hit_rate",
    "ndcg",
    "rank_targets",
    "ranking_metrics",
    "recommendation_counts",
    "tail_share",
]
