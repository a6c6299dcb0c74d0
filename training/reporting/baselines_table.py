"""The baselines results table: popularity and random on several datasets, over seeds."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from training.config import DataConfig
from training.evaluation.baselines import popularity_scorer, random_scorer
from training.evaluation.evaluator import evaluate
from training.protocol.prepared import prepare
from training.reporting.results import aggregate, results_document, write_results

COMMAND = "make results  (python -m training baselines --out docs/results/baselines)"


def baselines_table(
    datasets: list[str],
    data_root: Path,
    seeds: list[int],
    out_stem: Path | None,
    base: DataConfig | None = None,
) -> dict[str, Any]:
    """Evaluate popularity and random on each dataset for each seed (the seed drives the random
    leave-one-out split where a dataset has no timestamps, the synthetic generator, and the random
    scorer). ``base`` (``--config`` / ``--set``) gives the other data settings, e.g. ``[data.csv]``
    or ``head_fraction``; dataset, folder and seed are set per row."""
    base = base if base is not None else DataConfig()
    rows: list[dict[str, Any]] = []
    fingerprints: dict[str, list[str]] = {}
    for name in datasets:
        runs: dict[str, list[Any]] = {"popularity": [], "random": []}
        for seed in seeds:
            data_dir = None if name == "synthetic" else str(data_root / name)
            cfg = DataConfig.model_validate(
                {**base.model_dump(), "dataset": name, "data_dir": data_dir, "seed": seed}
            )
            p = prepare(cfg)
            fingerprints.setdefault(name, []).append(p.fingerprint)
            runs["popularity"].append(evaluate(popularity_scorer(p.headtail), p.split, p.headtail))
            runs["random"].append(
                evaluate(random_scorer(p.dataset.n_items, seed=seed), p.split, p.headtail)
            )
        for variant, results in runs.items():
            agg = aggregate(results)
            rows.append({"dataset": name, "variant": variant, "n_seeds": len(results), **agg})
    doc = results_document(
        ", ".join(datasets),
        rows,
        config={"datasets": datasets, "seeds": seeds, "data_root": str(data_root)},
        fingerprint=fingerprints,
        extra={"generated_by": COMMAND},
    )
    if out_stem is not None:
        write_results(doc, out_stem)
    return doc
