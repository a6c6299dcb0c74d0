"""The serving benchmark's judgement logic: medians over repeats, and tail recall judged only on
enough truth (a target must not pass on a handful of tail items, nor fail on none)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from serving import MIN_TRUTH, median_load, recall_target  # noqa: E402


def rec(lam: float | None, head: float, tail: float | None, tail_truth: int) -> dict:
    return {
        "lambda_p": lam,
        "all": head,
        "head": head,
        "tail": tail,
        "head_truth": 10_000,
        "tail_truth": tail_truth,
    }


def test_tail_without_enough_truth_is_shown_but_not_judged() -> None:
    met, text = recall_target([rec(1.0, 0.99, 0.2, MIN_TRUTH - 1), rec(0.0, 0.98, 0.96, 500)], 0.95)
    assert met is True
    assert f"tail n/a ({MIN_TRUTH - 1} items)" in text and "tail 0.960" in text


def test_any_judged_slice_below_the_threshold_fails() -> None:
    met, _ = recall_target([rec(1.0, 0.99, None, 0), rec(0.0, 0.98, 0.94, 500)], 0.95)
    assert met is False
    met, _ = recall_target([rec(0.5, 0.90, 0.99, 5_000)], 0.95)
    assert met is False


def test_nothing_judgeable_is_none() -> None:
    only = rec(1.0, 0.99, None, 0)
    only["head_truth"] = 0
    assert recall_target([only], 0.95)[0] is None


def test_median_load_takes_each_figure_s_median_and_sums_errors() -> None:
    runs = [
        {
            "tool": "wrk",
            "connections": 32,
            "requests": 100,
            "rps": r,
            "p50_ms": p,
            "p99_ms": q,
            "errors": e,
        }
        for r, p, q, e in ((900.0, 3.0, 9.0, 0), (1000.0, 2.0, 8.0, 1), (950.0, 2.5, 20.0, 0))
    ]
    m = median_load(runs)
    assert (m["rps"], m["p50_ms"], m["p99_ms"]) == (950.0, 2.5, 9.0)
    assert (m["requests"], m["errors"], m["rps_repeats"]) == (300, 1, [900.0, 1000.0, 950.0])
    assert m["connections"] == 32 and m["rps"] == pytest.approx(950.0)
