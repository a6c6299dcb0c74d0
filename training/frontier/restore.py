"""Seed a frontier cache from a results document the runner wrote (``--restore-from``).

The cache is machine-local (runs/cache/, not in git) while the results JSON under docs/results/ is
committed and holds every run record verbatim (``_variants`` lists the cache files' contents).
On a fresh machine this puts those records back where the runner looks for them, so adding a
seed or a variant trains only that, and ``--cached-only`` regenerates the committed tables.

A record is restored only where it is the run the plan would train: a variant run when
``run_key`` of its recorded config equals the key of the plan's config for that variant and seed
(the same test the cache itself applies), a reference when the document's data section and β
grid are the plan's. Anything else in the document (variants or seeds no longer planned, runs of
a changed config) is left out and counted. Existing cache files are never overwritten.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from training.config import config_from_dict
from training.experiment import run_key
from training.frontier.run import _data_key, _Plan, reference_file, run_config, write_run


@dataclass(frozen=True)
class Restored:
    written: int  # cache files written
    present: int  # already in the cache (left as they were)
    unmatched: int  # records of the document that no planned run or reference matches


def restore_cache(plan: _Plan, fr: dict[str, Any], results: Path) -> Restored:
    doc = json.loads(results.read_text())
    written = present = unmatched = 0

    def put(f: Path, rec: dict[str, Any]) -> None:
        nonlocal written, present
        if f.exists():
            present += 1
        else:
            write_run(f, rec)
            written += 1

    same_data = "base_config" in doc and _data_key(
        config_from_dict({"data": doc["base_config"].get("data", {})}).to_dict()["data"]
    ) == _data_key(plan.base_cfg.to_dict()["data"])
    same_grid = [float(b) for b in doc.get("beta_grid", [])] == plan.grid
    for name, rec in doc.get("references", {}).items():
        if same_data and same_grid and name in fr.get("references", []):
            put(reference_file(plan, fr, name), rec)
        else:
            unmatched += 1
    planned = {v.name: v for v in plan.spec.variants}
    for name, recs in doc.get("variants", {}).items():
        for rec in recs:
            v = planned.get(name)
            seed = rec.get("seed")
            if v is None or seed not in plan.spec.seeds_of(v):
                unmatched += 1
                continue
            cfg, f = run_config(plan, v, int(seed))
            if run_key(config_from_dict(rec["config"], source=str(results))) != run_key(cfg):
                unmatched += 1
                continue
            put(f, rec)
    return Restored(written, present, unmatched)
