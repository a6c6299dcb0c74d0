"""The frontier runner on the tiny synthetic preset, its Pareto figure, and the claims rule on a
hand-built document."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.frontier.run import early_stopping, run_frontier
from training.reporting.frontier_claims import best_at_budget, compare
from training.reporting.learning_curves import render_learning_curves
from training.reporting.pareto import render_pareto

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"


def test_frontier_runs_caches_and_draws(tmp_path: Path) -> None:
    spec = tmp_path / "f.toml"
    spec.write_text(
        f"""
[experiment]
name = "f"
base = "{TINY}"
out = "{tmp_path / "out" / "f"}"
seeds = [0]
cache_dir = "{tmp_path / "cache"}"

[frontier]
references = ["popularity", "ease"]
beta_grid = [0.0, 0.5]
ease_lambdas = [10.0, 100.0]

[[frontier.compare]]
method = "tt_full"
base = "tt"

[[variant]]
name = "tt"
set = ["train.epochs=1"]

[[variant]]
name = "tt_full"
set = ["train.epochs=1", "model.negatives='full'"]
"""
    )
    doc = run_frontier(spec, ["train.progress=false"])
    assert doc["complete"]
    assert set(doc["references"]) == {"popularity", "ease"}
    assert doc["references"]["ease"]["knob"] in (10.0, 100.0)
    rec = doc["variants"]["tt"][0]
    # The β = 0 point of the curve is the model itself: the run's own test metrics.
    assert rec["curve"]["points"][0]["b"] == 0.0
    assert rec["curve"]["points"][0]["test"]["all_HR@50"] == pytest.approx(
        rec["test"]["metrics"]["all"]["HR@50"]
    )
    assert rec["curve"]["points"][1]["beta"] == pytest.approx(0.5 * rec["curve"]["scale"])
    md = (tmp_path / "out" / "f.md").read_text()
    assert "| tt_full | 1 |" in md and "| ease | 1 |" in md
    # A second invocation trains nothing: it reads the cache.
    again = run_frontier(spec, ["train.progress=false"], cached_only=True)
    assert again["variants"]["tt"][0]["seconds"] == rec["seconds"]
    png = render_pareto(tmp_path / "out" / "f.json")
    assert render_learning_curves(tmp_path / "out" / "f.json").exists()
    assert png.exists() and png.stat().st_size > 10_000


def _pt(b: float, v_all: float, v_tail: float, t_all: float, t_tail: float) -> dict[str, object]:
    return {
        "b": b,
        "valid": {"all_HR@50": v_all, "tail_HR@50": v_tail},
        "test": {"all_HR@50": t_all, "tail_HR@50": t_tail},
    }


def test_claims_pick_the_best_tail_within_the_budget_on_validation() -> None:
    base = {
        "seed": 0,
        "curve": {
            "points": [
                _pt(0, 0.50, 0.10, 0.48, 0.09),
                _pt(0.1, 0.497, 0.14, 0.47, 0.12),
                _pt(0.2, 0.45, 0.30, 0.44, 0.28),
            ]
        },
    }
    method = {
        "seed": 0,
        "curve": {"points": [_pt(0, 0.51, 0.15, 0.49, 0.16)]},
        "lambda_p_curve": [
            {"lambda_p": 0.5, **_pt(0, 0.496, 0.25, 0.47, 0.24)},
            {"lambda_p": 0.0, **_pt(0, 0.40, 0.40, 0.38, 0.39)},
        ],
    }
    doc = {"variants": {"m": [method], "b": [base]}}
    c = compare(doc, "m", "b", 0.01)
    row = c["per_seed"][0]
    # Budget 0.50 · 0.99 = 0.495: the base's b=0.1 point (0.497) qualifies, b=0.2 does not;
    # the method's λ_p=0.5 point (0.496) qualifies and has the best tail, λ_p=0 does not.
    assert row["base_knob"] == "b=0.1" and row["base_test_tail"] == 0.12
    assert row["method_knob"] == "λ_p=0.5" and row["method_test_tail"] == 0.24
    assert row["tail_ratio_vs_base_beta"] == pytest.approx(2.0)
    assert best_at_budget(base["curve"]["points"], 0.9, 0.01) is None


def test_early_stopping_is_judged_per_phase() -> None:
    hist = [{"phase": 1, "valid_ndcg@50": s} for s in (0.1, 0.3, 0.2)]
    hist += [{"phase": 2, "valid_ndcg@50": s} for s in (0.2, 0.25)]
    assert early_stopping(hist) == [(1, 3, True), (1, 2, False)]


def test_many_shot_alone_counts_as_a_two_tower_for_the_ease_target() -> None:
    from training.reporting.frontier_claims import serves_two_tower

    many = {
        "model": {"kind": "mirec"},
        "mirec": {"few_shot_epochs": 0, "lambda_p": 1.0, "tune_lambda_p": False},
    }
    assert serves_two_tower(many)
    assert serves_two_tower({"model": {"kind": "ssl"}})
    assert not serves_two_tower(
        {
            "model": {"kind": "mirec"},
            "mirec": {"few_shot_epochs": None, "lambda_p": 0.5, "tune_lambda_p": True},
        }
    )


def test_a_claim_on_runs_that_did_not_early_stop_is_not_met() -> None:
    from training.reporting.frontier_claims import targets

    def run(kind: str, scores: tuple[float, ...]) -> dict[str, object]:
        return {
            "config": {"model": {"kind": kind}},
            "training": {"history": [{"valid_ndcg@50": s} for s in scores]},
        }

    stopped, cut = (0.1, 0.3, 0.2), (0.1, 0.2, 0.3)  # best epoch before / at the last
    comp = {
        "method": "m",
        "base": "b",
        "tolerance": 0.02,
        "seeds": [0],
        "n_reaching_budget": 1,
        "tail_ratio_vs_base_beta": {"mean": 1.5, "std": 0.0, "n": 1},
        "all_ratio_vs_base_plain": {"mean": 1.0, "std": 0.0, "n": 1},
    }
    for method_scores, met in ((stopped, True), (cut, False)):
        doc = {
            "variants": {"m": [run("ssl", method_scores)], "b": [run("two_tower", stopped)]},
            "references": {},
            "compare": [],
            "wall_seconds_all_runs": 60.0,
            "complete": True,
        }
        (claim,) = [t for t in targets(doc, [comp]) if t["target"].startswith("m vs b")]
        assert claim["met"] is met
        assert ("not judged" in claim["value"]) is not met
