"""Reference scorers with their knob chosen on validation: EASE (λ), RP3β (β), popularity."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from training.evaluation.baselines import popularity_scorer
from training.evaluation.beta_knob import beta_curve, point
from training.evaluation.evaluator import Scorer, evaluate
from training.evaluation.references.ease import ease_weights, matrix_scorer
from training.evaluation.references.interactions import train_matrix
from training.evaluation.references.rp3beta import rp3beta_weights
from training.protocol.prepared import Prepared

REFERENCES = ("popularity", "ease", "rp3beta")
DEFAULT_KNOBS: dict[str, tuple[float, ...]] = {
    "ease": (50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0),
    "rp3beta": (0.0, 0.2, 0.4, 0.6, 0.8),
}


def _valid_point(scorer: Scorer, p: Prepared) -> dict[str, float]:
    return point(evaluate(scorer, p.split, p.headtail, role="valid", ks=(50,)))


def run_reference(
    name: str, p: Prepared, knobs: Sequence[float] | None, grid: Sequence[float]
) -> dict[str, Any]:
    """The reference's knob sweep (validation), the chosen knob (best overall validation
    NDCG@50) and the β curve of the chosen model."""
    t0 = time.perf_counter()
    sweep: list[dict[str, Any]] = []
    chosen: float | None = None
    scorer: Scorer | None = None
    if name == "popularity":
        scorer = popularity_scorer(p.headtail)
    elif name in ("ease", "rp3beta"):
        x = train_matrix(p.split)
        fit = ease_weights if name == "ease" else rp3beta_weights
        best = -1.0
        for k in knobs or DEFAULT_KNOBS[name]:
            s = matrix_scorer(x, fit(x, k))
            v = _valid_point(s, p)
            sweep.append({"knob": float(k), "valid": v})
            if v["all_NDCG@50"] > best:
                best, chosen, scorer = v["all_NDCG@50"], float(k), s
    else:
        raise ValueError(f"unknown reference {name!r}; known: {list(REFERENCES)}")
    assert scorer is not None
    curve = beta_curve(scorer, p, grid)
    return {
        "reference": name,
        "knob_sweep": sweep,
        "knob": chosen,
        "curve": curve,
        "seconds": time.perf_counter() - t0,
    }
