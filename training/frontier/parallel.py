"""``python -m training frontier --jobs N``: the runs a frontier file lacks, trained N at a time,
each in its own process, into the same cache the serial runner reads.

Why processes, not threads: each run is one single-threaded torch training loop (``train.threads``)
plus numpy evaluation, so a machine with N cores finishes N runs in the time of one; the GIL would
serialise threads. Each job writes its result file atomically, exactly as the serial runner would
(same keys, same records), so a table filled in parallel is the table filled run after run, and an
interrupted invocation resumes from whatever finished.

Jobs: the references together (one job: they share the data and are minutes at most); then one job
per run, except that the runs of one seed whose kind blends two models (MIRec, ``has_lambda_p``)
share a job, in file order: their phase 1 is cached under its own key (training/trainers/mirec.py)
and trained once by whichever runs first. Processes are spawned (not forked): torch and OpenMP
state does not survive a fork safely.
"""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from models.kinds import get_kind
from training.frontier import run as frontier_run
from training.pipeline import configure_logging

Job = tuple[str, list[tuple[str, int]]]  # ("references", []) or ("runs", [(variant, seed), ...])


def plan_jobs(plan: Any, fr: dict[str, Any]) -> list[Job]:
    """What this invocation may train and the cache lacks, as jobs (see the module docstring)."""
    jobs: list[Job] = []
    refs = fr.get("references", [])
    missing = [n for n in refs if not frontier_run.reference_file(plan, fr, n).exists()]
    if missing and not plan.skip_references:
        jobs.append(("references", []))
    shared: dict[int, list[tuple[str, int]]] = {}
    for v in plan.spec.variants:
        for seed in plan.spec.seeds_of(v):
            cfg, f = frontier_run.run_config(plan, v, seed)
            if f.exists() or not plan.may_train(v.name, seed):
                continue
            if get_kind(cfg.model.kind).has_lambda_p:
                if seed not in shared:
                    shared[seed] = []
                    jobs.append(("runs", shared[seed]))  # filled in place, keeps its position
                shared[seed].append((v.name, seed))
            else:
                jobs.append(("runs", [(v.name, seed)]))
    return jobs


def run_job(path: str, overrides: list[str] | None, job: Job) -> list[str]:
    """One job in a worker process: the cache files it wrote (by name)."""
    configure_logging()
    plan, fr = frontier_run.make_plan(Path(path), overrides)
    kind, runs = job
    if kind == "references":
        frontier_run.references_of(plan, fr)
        return ["references"]
    written = []
    by_name = {v.name: v for v in plan.spec.variants}
    for name, seed in runs:
        cfg, f = frontier_run.run_config(plan, by_name[name], seed)
        if not f.exists():  # another invocation may have finished it meanwhile
            frontier_run.write_run(f, frontier_run.train_one(plan, cfg, name, seed))
        written.append(f.name)
    return written


def fill_cache(
    plan: Any,
    fr: dict[str, Any],
    overrides: list[str] | None,
    jobs: int,
) -> list[str]:
    """Run every job on ``jobs`` worker processes; the failures, one line each (none: [])."""
    todo = plan_jobs(plan, fr)
    if not todo:
        return []
    failed: list[str] = []
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=ctx) as pool:
        futures = [(job, pool.submit(run_job, str(plan.path), overrides, job)) for job in todo]
        for job, fut in futures:
            try:
                fut.result()
            except Exception as e:  # a failed run must not lose the others' results
                what = (
                    "references"
                    if job[0] == "references"
                    else ", ".join(f"{n} seed {s}" for n, s in job[1])
                )
                failed.append(f"{what}: {type(e).__name__}: {e}")
    return failed
