"""``frontier --jobs``: the jobs it plans (MIRec runs of one seed together) and a table filled by
two worker processes equal to the same table filled run after run (tiny synthetic preset)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.frontier.parallel import plan_jobs
from training.frontier.run import make_plan, run_frontier

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"


def _spec(tmp: Path, name: str) -> Path:
    spec = tmp / f"{name}.toml"
    spec.write_text(
        f"""
[experiment]
name = "{name}"
base = "{TINY}"
out = "{tmp / "out" / name}"
seeds = [0, 1]
cache_dir = "{tmp / name / "cache"}"

[frontier]
references = ["popularity"]
beta_grid = [0.0, 0.5]

[[variant]]
name = "tt"
set = ["train.epochs=2", "train.threads=1"]

[[variant]]
name = "many_shot"
set = ["model.kind='mirec'", "mirec.few_shot_epochs=0", "mirec.lambda_p=1.0",
       "mirec.tune_lambda_p=false", "train.epochs=1", "train.threads=1"]

[[variant]]
name = "mirec"
set = ["model.kind='mirec'", "train.epochs=1", "train.threads=1"]
seeds = [0]
"""
    )
    return spec


def test_jobs_group_the_mirec_runs_of_a_seed(tmp_path: Path) -> None:
    plan, fr = make_plan(_spec(tmp_path, "p"), None)
    jobs = plan_jobs(plan, fr)
    assert jobs == [
        ("references", []),
        ("runs", [("tt", 0)]),
        ("runs", [("tt", 1)]),
        ("runs", [("many_shot", 0), ("mirec", 0)]),  # share phase 1, so one job, in file order
        ("runs", [("many_shot", 1)]),
    ]
    only = plan_jobs(make_plan(_spec(tmp_path, "p"), None, only=["tt"], only_seeds=[1])[0], fr)
    assert only == [("references", []), ("runs", [("tt", 1)])]


@pytest.mark.slow
def test_two_workers_fill_the_same_table_as_one(tmp_path: Path) -> None:
    serial = run_frontier(_spec(tmp_path, "a"), ["train.progress=false"])
    parallel = run_frontier(_spec(tmp_path, "b"), ["train.progress=false"], jobs=2)
    assert serial["complete"] and parallel["complete"]
    for name, recs in serial["variants"].items():
        other = parallel["variants"][name]
        assert [r["seed"] for r in other] == [r["seed"] for r in recs]
        for r, o in zip(recs, other, strict=True):
            assert o["test"]["metrics"] == r["test"]["metrics"]  # same runs, same numbers
    # Every run was written by a worker: the same cache file names in both caches.
    names = {p.name for p in (tmp_path / "a" / "cache").glob("*.json")}
    assert names == {p.name for p in (tmp_path / "b" / "cache").glob("*.json")}
    assert json.loads((tmp_path / "out" / "b.json").read_text())["complete"]
