"""The papers' claims, answered from results files (``python -m training claims ssl|mirec``).

Reads the results JSON written by ``python -m training experiment`` and writes a claims document
(``<out>.json`` with every number used, and ``<out>.md`` rendered from it). A difference between
two variants is called *clear* when |Δ| exceeds twice its standard error over seeds
(``se = sqrt(s_a²/n_a + s_b²/n_b)``); with one seed (the sweeps) there is no error bar and the
verdict says so.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

Row = dict[str, Any]
TITLES = {"ssl": "SSL", "mirec": "MIRec"}


def _rows(path: Path) -> dict[str, Row]:
    doc = json.loads(path.read_text(encoding="utf-8"))
    return {r["variant"]: r for r in doc["rows"]}


def compare(rows: dict[str, Row], a: str, b: str, sl: str, metric: str) -> dict[str, Any]:
    """Variant ``a`` against ``b`` on ``metrics[sl][metric]``."""
    if a not in rows or b not in rows:
        return {"a": a, "b": b, "slice": sl, "metric": metric, "missing": True}
    ra, rb = rows[a], rows[b]
    ma, mb = ra["metrics"][sl][metric], rb["metrics"][sl][metric]
    na, nb = ra.get("n_seeds", 1), rb.get("n_seeds", 1)
    delta = ma["mean"] - mb["mean"]
    se = math.sqrt(ma["std"] ** 2 / na + mb["std"] ** 2 / nb) if min(na, nb) > 1 else None
    if se is None:
        verdict = (
            "higher (1 seed, no error bar)"
            if delta > 0
            else ("lower (1 seed, no error bar)" if delta < 0 else "equal")
        )
    elif abs(delta) > 2 * se:
        verdict = "clearly higher" if delta > 0 else "clearly lower"
    else:
        verdict = "no clear difference"
    return {
        "a": a,
        "b": b,
        "slice": sl,
        "metric": metric,
        "a_mean": ma["mean"],
        "a_std": ma["std"],
        "b_mean": mb["mean"],
        "b_std": mb["std"],
        "delta": delta,
        "relative": delta / mb["mean"] if mb["mean"] else None,
        "se": se,
        "verdict": verdict,
        "n": [na, nb],
    }


def _fmt(c: dict[str, Any]) -> str:
    if c.get("missing"):
        return f"{c['a']} vs {c['b']}: not measured"
    rel = f" ({c['relative'] * 100:+.1f}%)" if c["relative"] is not None else ""
    return (
        f"{c['slice']} {c['metric']}: {c['a']} {c['a_mean'] * 100:.2f} ± {c['a_std'] * 100:.2f} "
        f"vs {c['b']} {c['b_mean'] * 100:.2f} ± {c['b_std'] * 100:.2f} → Δ "
        f"{c['delta'] * 100:+.2f} pp{rel}: **{c['verdict']}**"
    )


def _dataset(path: Path) -> str:
    return str(json.loads(path.read_text(encoding="utf-8")).get("dataset", "?"))


HR50 = ("HR@50",)
HR_NDCG50 = ("HR@50", "NDCG@50")
ALL_TAIL = ("all", "tail")
TAIL_ALL_HEAD = ("tail", "all", "head")


def _grid(
    rows: dict[str, Row],
    pairs: list[tuple[str, str]],
    slices: tuple[str, ...],
    metrics: tuple[str, ...],
) -> list[dict[str, Any]]:
    """``compare`` over every (a, b) pair, then slice, then metric, in that nesting order."""
    return [compare(rows, a, b, sl, m) for a, b in pairs for sl in slices for m in metrics]


def _question(text: str, comparisons: list[dict[str, Any]]) -> dict[str, Any]:
    return {"question": text, "comparisons": comparisons}


def _ssl_main_questions(main: Path) -> list[dict[str, Any]]:
    rows = _rows(main)
    on = f" ({_dataset(main)}, {next(iter(rows.values()))['n_seeds']} seeds)" if rows else ""
    return [
        _question(
            "Does ssl_cfm beat two_tower on tail HR@50 without losing overall HR@50?" + on,
            _grid(rows, [("ssl_cfm", "two_tower")], TAIL_ALL_HEAD, HR50),
        ),
        _question("Does CFM beat RFM?" + on, _grid(rows, [("ssl_cfm", "ssl_rfm")], ALL_TAIL, HR50)),
        _question(
            "Does SSL beat FD and SO (the paper's other baselines)?" + on,
            _grid(rows, [("ssl_cfm", "fd"), ("ssl_cfm", "so")], ALL_TAIL, HR50),
        ),
    ]


def _ssl_sweep_questions(sweeps: Path) -> list[dict[str, Any]]:
    sw = _rows(sweeps)
    son = f" ({_dataset(sweeps)}, 1 seed)"
    sizes = [(f"ssl_cfm_{p}pct", f"two_tower_{p}pct") for p in (10, 50, 100)]
    alphas = {
        "0.1": "ssl_cfm_alpha0.1",
        "0.3": "ssl_cfm_100pct",
        "1": "ssl_cfm_alpha1",
        "3": "ssl_cfm_alpha3",
    }
    return [
        _question(
            "Does the gain grow when training data shrinks (10% / 50% / 100%)?" + son,
            _grid(sw, sizes, ALL_TAIL, ("HR@10", "HR@50")),
        ),
        _question(
            "How does α ∈ {0.1, 0.3, 1, 3} move head and tail?" + son,
            _grid(sw, [(v, "two_tower_100pct") for v in alphas.values()], ("head", "tail"), HR50),
        ),
    ]


def _ssl_tuning_question(tuning: Path) -> dict[str, Any]:
    tu = _rows(tuning)
    pairs = [
        (n, "two_tower_logq" if "logq" in n else "two_tower_100pct")
        for n in tu
        if n.startswith("ssl_")
    ]
    return _question(
        f"Other settings tried (dr, τ, SSL batch size, logQ) ({_dataset(tuning)}, 1 seed)",
        _grid(tu, pairs, ALL_TAIL, HR50),
    )


def _ssl_logq_question(logq: Path) -> dict[str, Any]:
    return _question(
        f"With a logQ-corrected baseline ({_dataset(logq)}, 3 seeds): does "
        "ssl_cfm lift tail HR@50 without losing overall?",
        _grid(_rows(logq), [("ssl_cfm_logq", "two_tower_logq")], TAIL_ALL_HEAD, HR_NDCG50),
    )


def ssl_claims(
    main: Path, sweeps: Path | None, tuning: Path | None = None, logq: Path | None = None
) -> dict[str, Any]:
    q = _ssl_main_questions(main)
    if sweeps is not None and sweeps.exists():
        q += _ssl_sweep_questions(sweeps)
    if tuning is not None and tuning.exists():
        q.append(_ssl_tuning_question(tuning))
    if logq is not None and logq.exists():
        q.append(_ssl_logq_question(logq))
    return {
        "kind": "ssl",
        "sources": [str(x) for x in (main, sweeps, tuning, logq) if x],
        "questions": q,
    }


def _two_stage(history: list[dict[str, Any]]) -> dict[str, Any]:
    """Does the tail validation loss descend in phase 1, then descend again in phase 2?"""
    h = [x for x in history if "valid_loss" in x]
    p1 = [x["valid_loss"]["tail"] for x in h if x.get("phase") == 1]
    p2 = [x["valid_loss"]["tail"] for x in h if x.get("phase") == 2]
    return {
        "phase1_tail_valid_loss": p1,
        "phase2_tail_valid_loss": p2,
        "phase1_descends": len(p1) >= 2 and p1[-1] < p1[0],
        "phase2_descends_below_phase1": bool(p1 and p2 and min(p2) < min(p1)),
    }


def _mirec_main_questions(main: Path) -> list[dict[str, Any]]:
    rows = _rows(main)
    ablations = [
        ("meta_only", "few_shot"),
        ("curriculum_only", "few_shot"),
        ("mirec", "meta_only"),
        ("mirec", "curriculum_only"),
        ("mirec", "many_shot"),
    ]
    return [
        _question(
            "Does MIRec lift tail HR@50 and NDCG@50 over two_tower without lowering "
            "overall and head?",
            _grid(rows, [("mirec", "two_tower")], TAIL_ALL_HEAD, HR_NDCG50),
        ),
        _question(
            "The same against many_shot (θ* alone: the same towers with logQ, the "
            "model MIRec starts from)",
            _grid(rows, [("mirec", "many_shot")], TAIL_ALL_HEAD, HR_NDCG50),
        ),
        _question(
            "Are meta-learning and curriculum each positive, and best together?",
            _grid(rows, ablations, ALL_TAIL, HR50),
        ),
    ]


def _mirec_tuning_question(tuning: Path) -> dict[str, Any]:
    tu = _rows(tuning)
    pairs = [(n, "mirec") for n in tu if n.startswith("mirec_try_")]
    return _question(
        f"Settings tried ({_dataset(tuning)}, 1 seed, against mirec with the "
        "defaults; head_fraction also moves the head/tail slices): λ, local steps, "
        "F's width, k",
        _grid(tu, pairs, ALL_TAIL, HR50),
    )


def _two_stage_curves(records_dir: Path) -> dict[str, Any]:
    """Per curriculum, the two-stage descent of the seed-0 mirec record."""
    curves = {}
    for f in sorted(records_dir.glob("mirec*-s0-*.json")):
        rec = json.loads(f.read_text())
        if rec.get("config", {}).get("model", {}).get("kind") != "mirec":
            continue
        cur = rec["config"]["mirec"]["curriculum"]
        if rec["variant"] in ("mirec", f"mirec_{cur}"):
            curves[cur] = _two_stage(rec["training"]["history"])
    return curves


def _lambda_p_sweep(records_dir: Path) -> dict[str, Any] | None:
    """The mirec variant's λ_p sweep, averaged over seeds; ``None`` when no record has one."""
    sweeps = [
        rec["lambda_p_sweep"]
        for f in sorted(records_dir.glob("mirec-s*-*.json"))
        if (rec := json.loads(f.read_text())).get("variant") == "mirec"
        and rec.get("lambda_p_sweep")
    ]
    if not sweeps:
        return None
    lams = [row["lambda_p"] for row in sweeps[0]]
    return {
        "n_seeds": len(sweeps),
        "rows": [{"lambda_p": lam, **_sweep_means(sweeps, i)} for i, lam in enumerate(lams)],
    }


def _sweep_means(sweeps: list[list[dict[str, Any]]], i: int) -> dict[str, float]:
    return {
        f"{sl}_HR@50": sum(sw[i][f"{sl}_HR@50"] for sw in sweeps) / len(sweeps)
        for sl in ("all", "head", "tail")
    }


def mirec_claims(
    main: Path, records_dir: Path | None, tuning: Path | None = None
) -> dict[str, Any]:
    q = _mirec_main_questions(main)
    if tuning is not None and tuning.exists():
        q.append(_mirec_tuning_question(tuning))
    sources = [str(x) for x in (main, tuning) if x]
    out: dict[str, Any] = {"kind": "mirec", "sources": sources, "questions": q}
    if records_dir is not None:
        out["two_stage_descent"] = _two_stage_curves(records_dir)
        sweep = _lambda_p_sweep(records_dir)
        if sweep is not None:
            out["lambda_p_sweep"] = sweep
    return out


def render(doc: dict[str, Any]) -> str:
    lines = [
        f"# The {TITLES[doc['kind']]} paper's claims on our data",
        "",
        f"_Generated by `python -m training claims {doc['kind']}` from "
        f"{', '.join(f'`{s}`' for s in doc['sources'] if s)}; do not edit by hand._",
        "",
        "Numbers are test-set percentages, mean ± std over seeds. *Clearly* = |Δ| > 2 standard "
        "errors over seeds.",
        "",
    ]
    for q in doc["questions"]:
        lines += [f"## {q['question']}", ""]
        lines += [f"- {_fmt(c)}" for c in q["comparisons"]]
        lines.append("")
    if "lambda_p_sweep" in doc:
        sw = doc["lambda_p_sweep"]
        lines += [
            "## The λ_p trade-off (validation HR@50, %, mean over "
            f"{sw['n_seeds']} seeds of the mirec variant)",
            "",
            "λ_p is tuned on validation NDCG@50 over all items; where it lands on 1.0 the served "
            "score is the many-shot score alone and mirec equals many_shot. A request can move "
            "along this curve with its own `lambda_p`.",
            "",
            "| λ_p | all | head | tail |",
            "| ---: | ---: | ---: | ---: |",
        ]
        lines += [
            f"| {r['lambda_p']:.1f} | {r['all_HR@50'] * 100:.2f} | {r['head_HR@50'] * 100:.2f} "
            f"| {r['tail_HR@50'] * 100:.2f} |"
            for r in sw["rows"]
        ]
        lines.append("")
    if "two_stage_descent" in doc:
        lines += [
            "## Does LTCur give the two-stage descent of the tail loss?",
            "",
            "Loss = in-batch softmax without logQ on fixed pairs (a training sample and the "
            "validation pairs), of θ* in phase 1 and of the meta-mapped few-shot model in phase 2. "
            "θ* trains with logQ and phase 2 without it, so part of the step at the switch is that "
            "change of objective, not only the change of data.",
            "",
        ]
        for cur, c in doc["two_stage_descent"].items():
            p1 = ", ".join(f"{x:.3f}" for x in c["phase1_tail_valid_loss"])
            p2 = ", ".join(f"{x:.3f}" for x in c["phase2_tail_valid_loss"])
            lines.append(
                f"- {cur}: tail validation loss, phase 1: [{p1}] → phase 2: [{p2}]; "
                f"phase 1 descends: {c['phase1_descends']}; phase 2 goes below phase 1: "
                f"{c['phase2_descends_below_phase1']}"
            )
        lines.append("")
    return "\n".join(lines)


def write_claims(doc: dict[str, Any], stem: Path) -> None:
    stem.parent.mkdir(parents=True, exist_ok=True)
    stem.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    stem.with_suffix(".md").write_text(render(doc), encoding="utf-8")
