"""``python -m training frontier --config configs/frontier/<dataset>.toml``: references and
trained variants × seeds, each with its (overall, tail) trade-off curves; resumable.

The file is an experiment file (training/experiment.py: ``[experiment]`` and ``[[variant]]``)
plus a ``[frontier]`` table::

    [frontier]
    references = ["popularity", "ease", "rp3beta"]
    beta_grid = [0.0, 0.05, ...]          # the relative β knob (training/evaluation/beta_knob.py)
    ease_lambdas = [100.0, 500.0]          # optional knob grids, chosen on validation
    rp3beta_betas = [0.0, 0.5]
    [[frontier.compare]]                   # claims: method vs base (+ β knob) at base accuracy
    method = "mirec"
    base = "many_shot"
    [[frontier.curve]]                     # a curve through several variants (SSL's α)
    name = "ssl_cfm α"
    variants = ["ssl_a0.1", "ssl_cfm", "ssl_a1"]
    knob = "ssl.alpha"

Each finished run (and each reference) is one JSON file in the cache dir, keyed like the
experiment cache by the hash of its resolved config and seed; rerunning trains only what is
missing, ``--cached-only`` trains nothing and writes a partial document.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import ValidationError

from common.toml_file import read_toml
from models.kinds import get_kind
from training.config import (
    ConfigError,
    RunConfig,
    apply_overrides,
    config_from_dict,
    validation_problems,
)
from training.evaluation.beta_knob import DEFAULT_GRID, beta_curve, point
from training.evaluation.evaluator import evaluate
from training.evaluation.scorers import embedding_scorer
from training.experiment import (
    ExperimentSpec,
    Variant,
    drop_added_defaults,
    load_experiment,
    run_key,
    run_one,
)
from training.frontier.spec import FrontierTable
from training.pipeline import configure_logging
from training.protocol.features import with_features
from training.protocol.prepared import Prepared, prepare
from training.reporting.results import git_commit
from training.trainers.exported import Exported
from training.trainers.loop import log_event


def load_frontier(path: Path) -> dict[str, Any]:
    """The file's ``[frontier]`` table, validated (``training/frontier/spec.py``), as plain data
    for the results document."""
    try:
        table = FrontierTable.model_validate(
            read_toml(path, ConfigError, what="frontier file").get("frontier", {})
        )
    except ValidationError as e:
        raise ConfigError(f"{path}: frontier: {validation_problems(e)}") from None
    return table.model_dump(exclude_none=True)


def write_run(f: Path, rec: dict[str, Any]) -> None:
    tmp = f.with_suffix(".tmp")
    tmp.write_text(json.dumps(rec, default=float))
    tmp.rename(f)


def _mirec_lambda_curve(exp: Exported, p: Prepared) -> list[dict[str, Any]]:
    """Validation and test points of the MIRec blend at each λ_p of the trainer's grid."""
    from training.trainers.context import train_tensors
    from training.trainers.mirec import LAMBDA_GRID, mirec_vectors

    t = train_tensors(p, torch.device("cpu"))
    rows = []
    for lam in LAMBDA_GRID:
        users, items = mirec_vectors(exp.model, t, lam)  # type: ignore[arg-type]
        s = embedding_scorer(users, items)
        row: dict[str, Any] = {"lambda_p": float(lam)}
        for role in ("valid", "test"):
            row[role] = point(evaluate(s, p.split, p.headtail, role=role, ks=(50,)))
        rows.append(row)
    return rows


def _data_key(data: dict[str, Any]) -> str:
    """Hash of a data section, options added since the cache was written dropped at their
    defaults (as in run_key), so references cached before stay found."""
    d = {"data": json.loads(json.dumps(data))}
    drop_added_defaults(d)
    return hashlib.sha256(json.dumps(d["data"], sort_keys=True).encode()).hexdigest()[:16]


@dataclass
class _Plan:
    """What one invocation may train, and the state shared by its runs."""

    path: Path
    spec: ExperimentSpec
    cache: Path
    grid: list[float]
    base_cfg: RunConfig
    cached_only: bool
    only: list[str] | None
    only_seeds: list[int] | None
    skip_references: bool
    prepared: dict[str, Prepared] = field(default_factory=dict)
    complete: bool = True

    def data(self, cfg_data: dict[str, Any]) -> Prepared:
        key = _data_key(cfg_data)
        if key not in self.prepared:
            self.prepared[key] = prepare(config_from_dict({"data": cfg_data}).data)
        return self.prepared[key]

    def may_train(self, variant: str, seed: int) -> bool:
        return not (
            self.cached_only
            or (self.only is not None and len(self.only) > 0 and variant not in self.only)
            or (self.only_seeds is not None and seed not in self.only_seeds)
        )


def _knob_grids(fr: dict[str, Any]) -> dict[str, Any]:
    return {"ease": fr.get("ease_lambdas"), "rp3beta": fr.get("rp3beta_betas")}


def reference_file(plan: _Plan, fr: dict[str, Any], name: str) -> Path:
    """Reference ``name``'s cache file: keyed by the data, its knob grid and the β grid."""
    dkey = _data_key(plan.base_cfg.to_dict()["data"])
    key = json.dumps([_knob_grids(fr).get(name), plan.grid]).encode()
    return plan.cache / f"ref-{name}-{dkey}-{hashlib.sha256(key).hexdigest()[:8]}.json"


def references_of(plan: _Plan, fr: dict[str, Any]) -> dict[str, Any]:
    refs: dict[str, Any] = {}
    base_data = plan.base_cfg.to_dict()["data"]
    for name in fr.get("references", []):
        f = reference_file(plan, fr, name)
        if f.exists():
            refs[name] = json.loads(f.read_text())
        elif plan.cached_only or plan.skip_references:
            plan.complete = False
        else:
            from training.frontier.references import run_reference

            grid = _knob_grids(fr).get(name)
            rec = run_reference(name, plan.data(base_data), grid, plan.grid)
            write_run(f, rec)
            refs[name] = rec
    return refs


def train_one(plan: _Plan, cfg: RunConfig, variant: str, seed: int) -> dict[str, Any]:
    p = with_features(plan.data(cfg.to_dict()["data"]), cfg.model.features)
    rec, exp = run_one(cfg, p, plan.cache)
    c0 = time.perf_counter()
    rec["variant"], rec["seed"] = variant, seed
    rec["curve"] = beta_curve(embedding_scorer(exp.user_vectors, exp.item_vectors), p, plan.grid)
    mc = cfg.mirec
    # λ_p's own curve, for a kind that blends two models and ran both phases.
    both_phases = mc.few_shot_epochs != 0 and mc.many_shot_epochs != 0
    if get_kind(cfg.model.kind).has_lambda_p and both_phases:
        rec["lambda_p_curve"] = _mirec_lambda_curve(exp, p)
    rec["curve_seconds"] = time.perf_counter() - c0
    return rec


def run_config(plan: _Plan, v: Variant, seed: int) -> tuple[RunConfig, Path]:
    """Variant ``v`` at ``seed``: its resolved config and its cache file."""
    cfg = plan.spec.run_config(v, seed, str(plan.path))
    return cfg, plan.cache / f"{v.name}-s{seed}-{run_key(cfg)}.json"


def _variants(plan: _Plan) -> dict[str, list[dict[str, Any]]]:
    variants: dict[str, list[dict[str, Any]]] = {}
    for v in plan.spec.variants:
        recs = []
        for seed in plan.spec.seeds_of(v):
            cfg, f = run_config(plan, v, seed)
            if f.exists():
                recs.append(json.loads(f.read_text()))
            elif plan.may_train(v.name, seed):
                rec = train_one(plan, cfg, v.name, seed)
                write_run(f, rec)
                recs.append(rec)
            else:
                plan.complete = False
        if recs:
            variants[v.name] = recs
    return variants


def make_plan(
    path: Path,
    overrides: list[str] | None,
    *,
    cached_only: bool = False,
    only: list[str] | None = None,
    only_seeds: list[int] | None = None,
    skip_references: bool = False,
) -> tuple[_Plan, dict[str, Any]]:
    """The plan of one invocation over ``path`` and the file's ``[frontier]`` table."""
    spec = load_experiment(path, overrides)
    fr = load_frontier(path)
    plan = _Plan(
        path=path,
        spec=spec,
        cache=Path(spec.cache_dir),
        grid=[float(b) for b in fr.get("beta_grid", DEFAULT_GRID)],
        base_cfg=config_from_dict(apply_overrides(spec.base_raw, []), source=str(path)),
        cached_only=cached_only,
        only=only,
        only_seeds=only_seeds,
        skip_references=skip_references,
    )
    plan.cache.mkdir(parents=True, exist_ok=True)
    return plan, fr


def run_frontier(
    path: Path,
    overrides: list[str] | None = None,
    cached_only: bool = False,
    only: list[str] | None = None,
    only_seeds: list[int] | None = None,
    skip_references: bool = False,
    jobs: int = 1,
    restore_from: Path | None = None,
) -> dict[str, Any]:
    """Train what is missing (or nothing, ``cached_only``) and write the document from the cache.

    ``jobs`` > 1: the missing runs are trained that many at a time, each in its own process
    (training/frontier/parallel.py); a run that fails is named after the document is written.

    ``only`` / ``only_seeds`` / ``skip_references`` restrict what this invocation trains (to split
    a table between worker processes sharing the cache); the document always lists everything
    cached for the whole file.

    ``restore_from``: a results document this file wrote before; its run records are put back in
    the cache first (training/frontier/restore.py), so only what it lacks is trained.
    """
    configure_logging()
    plan, fr = make_plan(
        path,
        overrides,
        cached_only=cached_only,
        only=only,
        only_seeds=only_seeds,
        skip_references=skip_references,
    )
    spec = plan.spec
    if restore_from is not None:
        from training.frontier.restore import restore_cache

        r = restore_cache(plan, fr, restore_from)
        log_event(
            "cache_restored",
            source=str(restore_from),
            written=r.written,
            present=r.present,
            unmatched=r.unmatched,
        )
    t_total = time.perf_counter()
    failed: list[str] = []
    if jobs > 1 and not cached_only:
        from training.frontier.parallel import fill_cache

        # Trains what is missing in worker processes; the passes below then only read the cache.
        failed = fill_cache(plan, fr, overrides, jobs)
        plan.cached_only = True
    refs = references_of(plan, fr)
    variants = _variants(plan)
    doc = {
        "dataset": plan.base_cfg.data.dataset,
        "fingerprint": sorted({r["fingerprint"] for rs in variants.values() for r in rs}),
        "generated_by": f"python -m training frontier --config {path}",
        "git_commit": git_commit(),
        "complete": plan.complete,
        "variants_planned": [v.name for v in spec.variants],
        "seeds": spec.seeds,
        "beta_grid": plan.grid,
        "references": refs,
        "variants": variants,
        "compare": fr.get("compare", []),
        "curves": fr.get("curve", []),
        "wall_seconds_this_invocation": time.perf_counter() - t_total,
        # What regenerating every cached run costs, run after run on this machine.
        "wall_seconds_all_runs": float(
            sum(r["seconds"] for r in refs.values())
            + sum(
                r["seconds"] + r.get("curve_seconds", 0.0) for rs in variants.values() for r in rs
            )
        ),
        "base_config": spec.base_raw,
    }
    out = Path(spec.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=1, default=float) + "\n")
    from training.frontier.table import write_table

    write_table(doc, out.with_suffix(".md"))
    if failed:
        raise RuntimeError(f"{len(failed)} run(s) failed: {'; '.join(failed)}")
    return doc


def summary_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per reference / variant: test overall and tail HR@50 at β = 0 (mean, std over
    seeds), best epoch, epochs run, whether every seed stopped early, seconds per run."""
    rows = []
    for name, r in doc["references"].items():
        t = r["curve"]["points"][0]["test"]
        rows.append(
            {
                "model": name,
                "n": 1,
                "all": (t["all_HR@50"], 0.0),
                "tail": (t["tail_HR@50"], 0.0),
                "knob": r.get("knob"),
                "best_epoch": "-",
                "early_stopped": "-",
                "seconds": r["seconds"],
            }
        )
    for name, recs in doc["variants"].items():
        tests = [r["curve"]["points"][0]["test"] for r in recs]
        phases = [early_stopping(r["training"].get("history", [])) for r in recs]
        eps = [",".join(str(b) for b, _, _ in ph) for ph in phases]
        runs = [",".join(str(n) for _, n, _ in ph) for ph in phases]
        stopped = all(ok for ph in phases for _, _, ok in ph)
        rows.append(
            {
                "model": name,
                "n": len(recs),
                "all": _ms([t["all_HR@50"] for t in tests]),
                "tail": _ms([t["tail_HR@50"] for t in tests]),
                "knob": recs[0].get("lambda_p"),
                "best_epoch": "/".join(str(e) for e in eps),
                "epochs_run": "/".join(str(n) for n in runs),
                "early_stopped": "yes" if stopped else "no",
                "seconds": float(np.mean([r["seconds"] for r in recs])),
            }
        )
    return rows


def early_stopping(history: list[dict[str, Any]]) -> list[tuple[int, int, bool]]:
    """Per training phase (MIRec has two): (best epoch by validation NDCG@50, epochs run, whether
    the best epoch came before the last one: stopped early rather than at the cap or budget).
    Epochs are counted from 0 within the phase."""
    out = []
    for ph in sorted({h.get("phase", 1) for h in history}):
        scores = [h.get("valid_ndcg@50", -1.0) for h in history if h.get("phase", 1) == ph]
        best = int(np.argmax(scores))
        out.append((best, len(scores), best < len(scores) - 1))
    return out


def _ms(xs: list[float]) -> tuple[float, float]:
    return float(np.mean(xs)), float(np.std(xs))
