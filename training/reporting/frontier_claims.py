"""The claims page of the frontier documents: tail HR@50 at the base model's accuracy.

For each ``[[frontier.compare]]`` pair (method, base) and each seed both have:

1. the budget is the base model's own overall validation HR@50 (β = 0);
2. on each side, among the trade-off points whose overall validation HR@50 is at least
   ``(1 − tolerance) · budget`` (the base's β curve; the method's β curve, plus MIRec's λ_p curve),
   the point with the best tail validation HR@50 is chosen;
3. the chosen points' **test** overall and tail HR@50 are reported, and the ratio of the method's
   tail HR@50 to the base's.

Selection on validation, report on test: nothing is tuned on the numbers reported. Means ± std
over seeds. The issue's targets (docs: issue 10) are judged from the same numbers.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_TOLERANCE = 0.01


def _points(rec: dict[str, Any], with_lambda: bool) -> list[dict[str, Any]]:
    pts = [{"knob": f"b={p['b']:g}", **p} for p in rec["curve"]["points"]]
    if with_lambda:
        pts += [{"knob": f"λ_p={p['lambda_p']:g}", **p} for p in rec.get("lambda_p_curve", [])]
    return pts


def best_at_budget(
    points: list[dict[str, Any]], budget: float, tol: float
) -> dict[str, Any] | None:
    """The point with the best tail validation HR@50 among those within the overall budget."""
    ok = [p for p in points if p["valid"]["all_HR@50"] >= (1.0 - tol) * budget]
    if not ok:
        return None
    return max(ok, key=lambda p: (p["valid"]["tail_HR@50"], p["valid"]["all_HR@50"]))


def _ms(xs: list[float]) -> dict[str, float]:
    return {"mean": float(np.mean(xs)), "std": float(np.std(xs)), "n": len(xs)}


def compare(doc: dict[str, Any], method: str, base: str, tol: float) -> dict[str, Any]:
    m_recs = {r["seed"]: r for r in doc["variants"].get(method, [])}
    b_recs = {r["seed"]: r for r in doc["variants"].get(base, [])}
    seeds = sorted(set(m_recs) & set(b_recs))
    per_seed = []
    for s in seeds:
        b0 = b_recs[s]["curve"]["points"][0]
        budget = b0["valid"]["all_HR@50"]
        bp = best_at_budget(_points(b_recs[s], False), budget, tol)
        mp = best_at_budget(_points(m_recs[s], True), budget, tol)
        assert bp is not None  # the base's own β = 0 point is always within its budget
        row: dict[str, Any] = {
            "seed": s,
            "budget_valid_all": budget,
            "base_knob": bp["knob"],
            "base_test_all": bp["test"]["all_HR@50"],
            "base_test_tail": bp["test"]["tail_HR@50"],
            "base_plain_test_all": b0["test"]["all_HR@50"],
            "base_plain_test_tail": b0["test"]["tail_HR@50"],
        }
        if mp is None:
            row["method_knob"] = None  # no point of the method reaches the budget
        else:
            row.update(
                {
                    "method_knob": mp["knob"],
                    "method_test_all": mp["test"]["all_HR@50"],
                    "method_test_tail": mp["test"]["tail_HR@50"],
                    "tail_ratio_vs_base_beta": mp["test"]["tail_HR@50"]
                    / max(bp["test"]["tail_HR@50"], 1e-12),
                    "tail_ratio_vs_base_plain": mp["test"]["tail_HR@50"]
                    / max(b0["test"]["tail_HR@50"], 1e-12),
                    "all_ratio_vs_base_plain": mp["test"]["all_HR@50"]
                    / max(b0["test"]["all_HR@50"], 1e-12),
                }
            )
        per_seed.append(row)
    reached = [r for r in per_seed if r["method_knob"] is not None]
    summary: dict[str, Any] = {
        "method": method,
        "base": base,
        "tolerance": tol,
        "seeds": seeds,
        "per_seed": per_seed,
        "n_reaching_budget": len(reached),
    }
    for key in ("base_test_all", "base_test_tail", "base_plain_test_all", "base_plain_test_tail"):
        if per_seed:
            summary[key] = _ms([r[key] for r in per_seed])
    for key in (
        "method_test_all",
        "method_test_tail",
        "tail_ratio_vs_base_beta",
        "tail_ratio_vs_base_plain",
        "all_ratio_vs_base_plain",
    ):
        if reached:
            summary[key] = _ms([r[key] for r in reached])
    return summary


def _b0_mean(recs: list[dict[str, Any]], role: str = "test") -> float:
    return float(np.mean([r["curve"]["points"][0][role]["all_HR@50"] for r in recs]))


def serves_two_tower(config: dict[str, Any]) -> bool:
    """True when a run serves a plain two-tower: a two_tower / ssl kind, or MIRec's many-shot model
    alone (no few-shot phase, λ_p fixed at 1, so the blend is the many-shot tower)."""
    kind = config["model"]["kind"]
    if kind in ("two_tower", "ssl"):
        return True
    m = config.get("mirec", {})
    return (
        kind == "mirec"
        and m.get("few_shot_epochs") == 0
        and m.get("lambda_p") == 1.0
        and not m.get("tune_lambda_p", True)
    )


def _converged(doc: dict[str, Any], c: dict[str, Any]) -> bool:
    """A claim needs converged runs on both sides: every phase of every seed early-stopped."""
    from training.frontier.run import early_stopping

    return all(
        ok
        for name in (c["method"], c["base"])
        for rec in doc["variants"][name]
        for _, _, ok in early_stopping(rec["training"].get("history", []))
    )


def _pair_target(doc: dict[str, Any], c: dict[str, Any]) -> dict[str, Any]:
    """The tail-at-budget target of one method / base pair."""
    kind = doc["variants"][c["method"]][0]["config"]["model"]["kind"]
    need = 1.3 if kind == "mirec" else 1.15
    r = c.get("tail_ratio_vs_base_beta")
    a = c.get("all_ratio_vs_base_plain")
    converged = _converged(doc, c)
    # Selected on validation; judged on test: the test overall ratio must hold the budget too.
    return {
        "target": f"{c['method']} vs {c['base']} + β: tail HR@50 ≥ {need}× at overall "
        f"≥ {1 - c['tolerance']:.2f}× the base's",
        "value": "no point within the budget"
        if r is None or a is None
        else f"tail {r['mean']:.3f} ± {r['std']:.3f}×, overall {a['mean']:.3f} ± "
        f"{a['std']:.3f}× (test) over {r['n']} seeds"
        + ("" if converged else "; not every run early-stopped, so not judged"),
        "met": converged
        and r is not None
        and a is not None
        and c["n_reaching_budget"] == len(c["seeds"])
        and r["mean"] >= need
        and a["mean"] >= 1 - c["tolerance"],
    }


def targets(doc: dict[str, Any], comps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The issue's targets judged on this document (the issue states the EASE and 90-minute
    targets for ML-1M; on other datasets they are shown for reference)."""
    out: list[dict[str, Any]] = []
    planned = [
        f"{c['method']} vs {c['base']}"
        for c in doc.get("compare", [])
        if c["method"] not in doc["variants"] or c["base"] not in doc["variants"]
    ]
    for name in planned:
        out.append(
            {"target": f"{name}: runs missing from the cache", "value": "not run", "met": False}
        )
    if "ease" in doc["references"]:
        ease = doc["references"]["ease"]["curve"]["points"][0]["test"]["all_HR@50"]
        tt = {
            n: _b0_mean(r) for n, r in doc["variants"].items() if serves_two_tower(r[0]["config"])
        }
        if tt:
            best = max(tt, key=lambda n: tt[n])
            out.append(
                {
                    "target": "best two-tower variant ≥ 0.95 × EASE overall HR@50 (test)",
                    "value": f"{best}: {100 * tt[best]:.1f} vs EASE {100 * ease:.1f} "
                    f"({tt[best] / ease:.3f}×)",
                    "met": tt[best] >= 0.95 * ease,
                }
            )
    out += [_pair_target(doc, c) for c in comps]
    mins = doc["wall_seconds_all_runs"] / 60
    out.append(
        {
            "target": "all runs of the table regenerate in ≤ 90 min of wall clock",
            "value": f"{mins:.0f} min: the cached runs' wall clock, run after run"
            + ("" if doc["complete"] else " (table incomplete)"),
            "met": doc["complete"] and mins <= 90,
        }
    )
    return out


def frontier_claims(paths: list[Path]) -> dict[str, Any]:
    docs = []
    for p in paths:
        doc = json.loads(p.read_text())
        comps = [
            compare(doc, c["method"], c["base"], float(c.get("tolerance", DEFAULT_TOLERANCE)))
            for c in doc.get("compare", [])
            if c["method"] in doc["variants"] and c["base"] in doc["variants"]
        ]
        docs.append(
            {
                "results": str(p),
                "dataset": doc["dataset"],
                "complete": doc["complete"],
                "comparisons": comps,
                "targets": targets(doc, comps),
            }
        )
    return {
        "generated_by": "python -m training tailclaims --results "
        + " ".join(str(p) for p in paths),
        "datasets": docs,
    }


def _fmt(s: dict[str, float] | None, pct: bool = True) -> str:
    if s is None:
        return "-"
    k = 100 if pct else 1
    return (
        f"{k * s['mean']:.1f} ± {k * s['std']:.1f}" if pct else f"{s['mean']:.3f} ± {s['std']:.3f}"
    )


def write_frontier_claims(doc: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1) + "\n")
    lines = [
        "# Claims: tail HR@50 at the base model's accuracy",
        "",
        f"Generated by `{doc['generated_by']}`. For each pair, the budget is the base model's own "
        "overall validation HR@50; each side's best-tail point within the budget (tolerance: "
        "relative) is picked on validation among its β-knob points (and MIRec's λ_p points); the "
        "table shows those points' test HR@50 (%), mean ± std over seeds.",
        "",
    ]
    for d in doc["datasets"]:
        lines += [
            f"## {d['dataset']}" + ("" if d["complete"] else " (partial table)"),
            "",
            "| method | base | tol | seeds | base overall | base tail (β=0) | base + β tail | "
            "method overall | method tail | overall × vs base | tail × vs base + β | "
            "tail × vs base |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for c in d["comparisons"]:
            lines.append(
                f"| {c['method']} | {c['base']} | {c['tolerance']:g} | {len(c['seeds'])} "
                f"| {_fmt(c.get('base_plain_test_all'))} | {_fmt(c.get('base_plain_test_tail'))} "
                f"| {_fmt(c.get('base_test_tail'))} | {_fmt(c.get('method_test_all'))} "
                f"| {_fmt(c.get('method_test_tail'))} "
                f"| {_fmt(c.get('all_ratio_vs_base_plain'), False)} "
                f"| {_fmt(c.get('tail_ratio_vs_base_beta'), False)} "
                f"| {_fmt(c.get('tail_ratio_vs_base_plain'), False)} |"
            )
        lines += ["", "| target | value | met |", "|---|---|---|"]
        for t in d["targets"]:
            lines.append(f"| {t['target']} | {t['value']} | {'met' if t['met'] else 'not met'} |")
        lines.append("")
    out.with_suffix(".md").write_text("\n".join(lines))
