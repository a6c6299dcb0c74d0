"""``python -m training experiment``: a table of variants × seeds, resumable.

An experiment file (TOML)::

    [experiment]
    name = "ssl_ml1m"
    base = "../ml1m_ssl.toml"             # the run config every variant starts from
    out = "../../docs/results/ssl_ml1m"   # results path stem (.json + .md)
    seeds = [0, 1, 2]                     # train.seed of each run (the split stays data.seed)
    cache_dir = "../../runs/cache/ml1m"   # one JSON per finished run, keyed by config and seed

    [[variant]]
    name = "ssl_cfm"
    set = ["ssl.mode='cfm'"]              # overrides, as with --set
    seeds = [0]                           # optional: fewer seeds for a sweep point

``base``, ``out`` and ``cache_dir`` are relative to the experiment file's folder (so the file
works from any working directory); paths inside the run config (``data.data_dir``) keep their
meaning, relative to the working directory. The file is a pydantic model (``ExperimentFile``):
unknown keys are refused, and every variant × seed config is validated before anything runs.

Every run's result is cached under a hash of its resolved config (seed included): rerunning the
command after an interruption only trains what is missing. The hash (``run_key``) never sees the
experiment's own paths, so moving the file or the cache does not invalidate it.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import ConfigDict, Field, ValidationError, model_validator

from common.toml_file import read_toml
from training.config import (
    ConfigError,
    RunConfig,
    Section,
    Seed,
    apply_overrides,
    config_from_dict,
    validation_problems,
)
from training.data.registry import dataset_name
from training.frontier.spec import FrontierTable
from training.pipeline import configure_logging, test_metrics, train_model
from training.protocol.features import with_features
from training.protocol.prepared import Prepared, prepare
from training.reporting.results import aggregate, results_document, write_results
from training.trainers import TRAINERS, trainer_for
from training.trainers.distributed import DistContext
from training.trainers.exported import Exported


class Variant(Section):
    """One ``[[variant]]``: overrides on top of the base config, and optionally its own seeds."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")  # part of cache file names
    overrides: list[str] = Field(default_factory=list, alias="set")  # as with --set
    seeds: list[Seed] | None = Field(None, min_length=1)  # None: the experiment's seeds

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )


class ExperimentTable(Section):
    """The ``[experiment]`` table, as written; paths are relative to the experiment file."""

    name: str | None = Field(None, min_length=1)  # None: the file's stem
    base: Path | None = None  # the run config every variant starts from; None: the defaults
    out: Path | None = None  # results path stem; None: docs/results/<name> of the repo root
    seeds: list[Seed] = Field(default_factory=lambda: [0, 1, 2], min_length=1)
    cache_dir: Path | None = None  # None: runs/cache/<name> of the working directory
    plots: list[Literal["curriculum", "projection", "lambda_p"]] = Field(default_factory=list)
    # Variants whose first seed is also written as a bundle.
    bundles: list[str] = Field(default_factory=list)


class ExperimentFile(Section):
    """An experiment file: one ``[experiment]`` table and at least one ``[[variant]]``."""

    experiment: ExperimentTable
    variant: list[Variant] = Field(min_length=1)
    # The frontier runner's table (python -m training frontier).
    frontier: FrontierTable | None = None

    @model_validator(mode="after")
    def _names(self) -> ExperimentFile:
        names = [v.name for v in self.variant]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"variant names must be distinct; repeated: {dup}")
        unknown = sorted(set(self.experiment.bundles) - set(names))
        if unknown:
            raise ValueError(f"experiment.bundles names unknown variants {unknown}")
        return self


class ExperimentSpec(Section):
    """A loaded experiment: the base config (overrides applied) and paths already resolved."""

    name: str
    base_raw: dict[str, Any]
    out: Path
    seeds: list[int]
    cache_dir: Path
    variants: list[Variant]
    plots: list[str] = Field(default_factory=list)
    bundles: list[str] = Field(default_factory=list)

    def seeds_of(self, v: Variant) -> list[int]:
        return v.seeds if v.seeds is not None else self.seeds

    def run_config(self, v: Variant, seed: int, source: str) -> RunConfig:
        raw = apply_overrides(self.base_raw, [*v.overrides, f"train.seed={seed}"])
        return config_from_dict(raw, source=f"{source} variant {v.name!r}")


def _relative_to(folder: Path, p: Path) -> Path:
    """``p`` resolved against ``folder`` (the experiment file's), shown relative to the working
    directory when it lies below it, so results and cache records keep the short paths they
    always had (``runs/cache/ml1m``) when run from the repo root."""
    if p.is_absolute():
        return p
    full = (folder / p).resolve()
    try:
        return full.relative_to(Path.cwd().resolve())
    except ValueError:
        return full


def load_experiment(path: Path, overrides: list[str] | None = None) -> ExperimentSpec:
    """Read and validate ``path``; every variant × seed config is validated too, so a bad value
    anywhere fails now, before any data is read or anything is trained."""
    raw = read_toml(path, ConfigError, what="experiment file")
    try:
        f = ExperimentFile.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{path}: {validation_problems(e)}") from None
    folder = Path(path).parent
    exp = f.experiment
    name = exp.name or Path(path).stem
    base_raw: dict[str, Any] = {}
    if exp.base is not None:
        base_raw = read_toml(_relative_to(folder, exp.base), ConfigError, what="base config")
    default_cache = Path(f"runs/cache/{name}")
    spec = ExperimentSpec(
        name=name,
        base_raw=apply_overrides(base_raw, overrides or []),
        out=_relative_to(folder, exp.out) if exp.out else Path(f"docs/results/{name}"),
        seeds=exp.seeds,
        cache_dir=_relative_to(folder, exp.cache_dir) if exp.cache_dir else default_cache,
        variants=f.variant,
        plots=list(exp.plots),
        bundles=exp.bundles,
    )
    for v in spec.variants:
        for seed in spec.seeds_of(v):
            spec.run_config(v, seed, str(path))
    return spec


# Options added after results were cached. A run with such an option at its default is the run
# that was cached before the option existed, so the option is left out of its key and the cache
# stays valid; a non-default value is part of the key. Add each new option here.
ADDED_OPTIONS: tuple[str, ...] = (
    "data.csv.duplicates",
    "data.csv.interactions_encoding",
    "data.csv.interactions_sep",
    "data.csv.item_feature_cols",
    "data.csv.item_features_encoding",
    "data.csv.item_features_sep",
    "data.csv.min_weight",
    "data.csv.name",
    "data.csv.user_feature_cols",
    "data.csv.user_features_encoding",
    "data.csv.user_features_sep",
    "data.csv.weight_col",
    "eval.valid_users",
    "mirec.lambda_p_epsilon",
    "mirec.lambda_p_rule",
    "model.features",
    "model.init_std",
    "model.negatives",
    "model.uniform_negatives",
    "train.precision",
    "train.time_budget_s",
)


def drop_added_defaults(d: dict[str, Any]) -> None:
    """Remove from a config dict (in place) every option of ``ADDED_OPTIONS`` that is at its
    default, so keys computed from it (runs, references) match those cached before the option
    existed."""
    defaults = RunConfig().to_dict()
    for path in ADDED_OPTIONS:
        *parents, leaf = path.split(".")
        node, ref = d, defaults
        for part in parents:
            node, ref = node.get(part, {}), ref.get(part, {})
        if leaf in node and leaf in ref and node[leaf] == ref[leaf]:
            del node[leaf]


def run_key(cfg: RunConfig) -> str:
    """Hash of the options that can change a run's result.

    Sections a run does not use are left out (the MIRec section of a two-tower run, the SSL
    section of a run without SSL), so the same baseline run is shared between tables.
    """
    d = cfg.to_dict()
    drop_added_defaults(d)
    d["train"].pop("progress", None)  # cosmetic
    d["train"].pop("threads", None)  # speed only
    own = trainer_for(cfg.model.kind).sections
    for section in {s for t in TRAINERS.values() for s in t.sections} - set(own):
        d.pop(section)
    if cfg.ssl.mode == "none":
        d.pop("ssl")
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:16]


def run_one(cfg: RunConfig, p: Prepared, cache_dir: Path) -> tuple[dict[str, Any], Exported]:
    """Train one run and measure it; returns its cache record and the exported model."""
    t0 = time.perf_counter()
    exp = train_model(cfg, p, DistContext(), cache_dir=cache_dir / "phase1")
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
        dataset_name(first.data),
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
        for seed in spec.seeds_of(v):
            cfg = spec.run_config(v, seed, str(path))
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
                if v.name in spec.bundles and seed == spec.seeds_of(v)[0]:
                    from training.pipeline import write_exported

                    bdir = spec.cache_dir / "bundles" / spec.name / v.name
                    write_exported(exported, p, cfg, bdir, test_metrics(exported, p, cfg))
                    rec["bundle"] = str(bdir)
                if trainer_for(cfg.model.kind).projection_figure:
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
