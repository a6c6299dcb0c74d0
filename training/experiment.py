"""``python -m training experiment``: a table of variants × seeds, resumable.

An experiment file (TOML)::

    [experiment]
    name = "ssl_ml1m"
    base = "configs/ml1m_ssl.toml"        # the run config every variant starts from
    out = "docs/results/ssl_ml1m"         # results path stem (.json + .md)
    seeds = [0, 1, 2]                     # train.seed of each run (the split stays data.seed)
    cache_dir = "runs/cache/ssl_ml1m"     # one JSON per finished run, keyed by config and seed

    [[variant]]
    name = "ssl_cfm"
    set = ["ssl.mode='cfm'"]              # overrides, as with --set
    seeds = [0]                           # optional: fewer seeds for a sweep point

Every run's result is cached under a hash of its resolved config (seed included): rerunning the
command after an interruption only trains what is missing.
"""

from __future__ import annotations

import hashlib
import json
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from training.config import ConfigError, RunConfig, apply_overrides, config_from_dict
from training.pipeline import configure_logging, test_metrics, train_model
from training.protocol.features import with_features
from training.protocol.prepared import Prepared, prepare
from training.reporting.results import aggregate, results_document, write_results
from training.trainers.distributed import DistContext
from training.trainers.exported import Exported


@dataclass(frozen=True)
class Variant:
    name: str
    overrides: list[str]
    seeds: list[int] | None = None


@dataclass(frozen=True)
class ExperimentSpec:
    name: str
    base_raw: dict[str, Any]
    out: Path
    seeds: list[int]
    cache_dir: Path
    variants: list[Variant]
    plots: list[str] = field(default_factory=list)
    bundles: list[str] = field(
        default_factory=list
    )  # variants whose first seed is kept as a bundle


def load_experiment(path: Path, overrides: list[str] | None = None) -> ExperimentSpec:
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: experiment file not found") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: {e}") from None
    exp = raw.get("experiment")
    if not isinstance(exp, dict):
        raise ConfigError(f"{path}: missing [experiment] section")
    unknown = set(exp) - {"name", "base", "out", "seeds", "cache_dir", "plots", "bundles"}
    if unknown:
        raise ConfigError(f"{path}: [experiment] has unknown keys {sorted(unknown)}")
    base_raw: dict[str, Any] = {}
    if "base" in exp:
        base_path = Path(exp["base"])
        try:
            base_raw = tomllib.loads(base_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: base config {base_path} not found") from None
    base_raw = apply_overrides(base_raw, overrides or [])
    variants = []
    for i, v in enumerate(raw.get("variant", [])):
        bad = set(v) - {"name", "set", "seeds"}
        if bad or "name" not in v:
            raise ConfigError(f"{path}: variant #{i + 1}: needs 'name'; unknown keys {sorted(bad)}")
        variants.append(Variant(v["name"], list(v.get("set", [])), v.get("seeds")))
    if not variants:
        raise ConfigError(f"{path}: no [[variant]] entries")
    name = exp.get("name", path.stem)
    return ExperimentSpec(
        name=name,
        base_raw=base_raw,
        out=Path(exp.get("out", f"docs/results/{name}")),
        seeds=list(exp.get("seeds", [0, 1, 2])),
        cache_dir=Path(exp.get("cache_dir", f"runs/cache/{name}")),
        variants=variants,
        plots=list(exp.get("plots", [])),
        bundles=list(exp.get("bundles", [])),
    )


def run_key(cfg: RunConfig) -> str:
    """Hash of the options that can change a run's result.

    Sections a run does not use are left out (the MIRec section of a two-tower run, the SSL
    section of a run without SSL), so the same baseline run is shared between tables.
    """
    d = cfg.to_dict()
    d["train"].pop("progress", None)  # cosmetic
    d["train"].pop("threads", None)  # speed only
    if cfg.model.kind != "mirec":
        d.pop("mirec")
    if cfg.ssl.mode == "none":
        d.pop("ssl")
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def run_one(cfg: RunConfig, p: Prepared, cache_dir: Path) -> tuple[dict[str, Any], Exported]:
    """Train one run and measure it; returns its cache record and the exported model."""
    t0 = time.perf_counter()
    if cfg.model.kind == "mirec":
        from training.trainers.mirec import train_mirec

        exp = train_mirec(cfg, p, DistContext(), cache_dir=cache_dir / "phase1")
    else:
        exp = train_model(cfg, p, DistContext())
    assert exp is not None
    test = test_metrics(exp, p, cfg)
    record = {
        "config": cfg.to_dict(),
        "fingerprint": p.fingerprint,
        "seconds": time.perf_counter() - t0,
        "test": test.to_dict(),
        "valid": exp.valid.to_dict() if exp.valid else None,
        "lambda_p": exp.lambda_p,
        "training": exp.training_info,
        "lambda_p_sweep": exp.manifest_extra.get("lambda_p_sweep"),
    }
    return record, exp


def _publish(
    spec: ExperimentSpec,
    path: Path,
    rows: list[dict[str, Any]],
    records: dict[str, list[dict[str, Any]]],
    fingerprints: set[str],
    stem: Path,
    seconds: float,
    complete: bool,
) -> dict[str, Any]:
    """Write the table (and figures) for the rows finished so far."""
    first = config_from_dict(apply_overrides(spec.base_raw, []), source=str(path))
    doc = results_document(
        first.data.dataset,
        rows,
        config={"experiment": str(path), "base": spec.base_raw},
        fingerprint=sorted(fingerprints)[0] if len(fingerprints) == 1 else sorted(fingerprints),
        extra={
            "generated_by": f"python -m training experiment --config {path}",
            "wall_seconds_this_invocation": seconds,
            "complete": complete,
            "variants_planned": [v.name for v in spec.variants],
        },
    )
    write_results(doc, stem)
    if spec.plots:
        from training.reporting.plots import render_plots

        render_plots(spec.plots, records, spec.cache_dir, stem)
    return doc


def run_experiment(
    path: Path,
    overrides: list[str] | None = None,
    out_stem: Path | None = None,
    cached_only: bool = False,
) -> dict[str, Any]:
    """Run (or take from the cache) every variant × seed and write the table.

    ``cached_only`` trains nothing: it tabulates the runs already in the cache (a partial table,
    marked as such, while another process is still filling the cache).
    """
    configure_logging()
    spec = load_experiment(path, overrides)
    spec.cache_dir.mkdir(parents=True, exist_ok=True)
    prepared: dict[str, Prepared] = {}
    rows: list[dict[str, Any]] = []
    fingerprints: set[str] = set()
    records: dict[str, list[dict[str, Any]]] = {}
    t_total = time.perf_counter()
    complete = True

    def publish(complete: bool) -> dict[str, Any]:
        stem = out_stem or spec.out
        seconds = time.perf_counter() - t_total
        return _publish(spec, path, rows, records, fingerprints, stem, seconds, complete)

    for v in spec.variants:
        recs = []
        for seed in v.seeds if v.seeds is not None else spec.seeds:
            raw = apply_overrides(spec.base_raw, [*v.overrides, f"train.seed={seed}"])
            cfg = config_from_dict(raw, source=f"{path} variant {v.name!r}")
            f = spec.cache_dir / f"{v.name}-s{seed}-{run_key(cfg)}.json"
            if f.exists():
                rec = json.loads(f.read_text())
            elif cached_only:
                complete = False
                continue
            else:
                dkey = json.dumps(cfg.to_dict()["data"], sort_keys=True)
                if dkey not in prepared:
                    prepared[dkey] = prepare(cfg.data)
                p = with_features(prepared[dkey], cfg.model.features)
                rec, exported = run_one(cfg, p, spec.cache_dir)
                rec["variant"], rec["seed"] = v.name, seed
                if v.name in spec.bundles and seed == (v.seeds or spec.seeds)[0]:
                    from training.pipeline import write_exported

                    bdir = spec.cache_dir / "bundles" / spec.name / v.name
                    write_exported(exported, p, cfg, bdir, test_metrics(exported, p, cfg))
                    rec["bundle"] = str(bdir)
                if cfg.model.kind == "mirec":
                    # Item vectors for the embedding-projection figure ([n_items, 2d]).
                    np.savez(
                        f.with_suffix(".items.npz"),
                        vectors=exported.item_vectors,
                        is_tail=p.headtail.is_tail,
                    )
                tmp = f.with_suffix(".tmp")
                tmp.write_text(json.dumps(rec, default=float))
                tmp.rename(f)
            fingerprints.add(rec["fingerprint"])
            recs.append(rec)
        if not recs:
            continue
        records[v.name] = recs
        agg = aggregate([r["test"] for r in recs])
        rows.append(
            {
                "variant": v.name,
                "n_seeds": len(recs),
                "seconds": {
                    "mean": float(np.mean([r["seconds"] for r in recs])),
                    "total": float(np.sum([r["seconds"] for r in recs])),
                },
                "lambda_p": [r.get("lambda_p") for r in recs],
                **agg,
            }
        )
        if len(rows) < len(spec.variants):  # a partial table survives an interrupted run
            publish(complete=False)
    return publish(complete=complete and len(rows) == len(spec.variants))
