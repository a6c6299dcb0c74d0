"""``frontier --restore-from``: a results document's runs put back in an empty cache give the same
table with nothing trained; a run whose config changed since is not restored (tiny preset)."""

from __future__ import annotations

import json
from pathlib import Path

from training.frontier.restore import restore_cache
from training.frontier.run import make_plan, run_frontier

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"


def _spec(tmp: Path, cache: str, epochs: int = 2) -> Path:
    spec = tmp / f"{cache}.toml"
    spec.write_text(
        f"""
[experiment]
name = "r"
base = "{TINY}"
out = "{tmp / "out" / cache}"
seeds = [0, 1]
cache_dir = "{tmp / cache}"

[frontier]
references = ["popularity"]
beta_grid = [0.0, 0.5]

[[variant]]
name = "tt"
set = ["train.epochs=2", "train.threads=1"]

[[variant]]
name = "other"
set = ["train.epochs={epochs}", "train.threads=1", "model.dim=8", "model.hidden=[8]"]
seeds = [0]
"""
    )
    return spec


def test_restored_runs_regenerate_the_table_without_training(tmp_path: Path) -> None:
    first = run_frontier(_spec(tmp_path, "a"), ["train.progress=false"])
    assert first["complete"]
    results = tmp_path / "out" / "a.json"

    again = run_frontier(
        _spec(tmp_path, "b"), ["train.progress=false"], cached_only=True, restore_from=results
    )
    assert again["complete"]  # cached_only: every run came from the restored cache
    for name, recs in first["variants"].items():
        assert again["variants"][name] == recs
    assert again["references"] == first["references"]
    names = {p.name for p in (tmp_path / "a").glob("*.json")}
    assert names == {p.name for p in (tmp_path / "b").glob("*.json")}

    # A second restore writes nothing; a changed config ("other" at 3 epochs) is left out.
    plan, fr = make_plan(_spec(tmp_path, "b"), None)
    r = restore_cache(plan, fr, results)
    assert (r.written, r.present, r.unmatched) == (0, 4, 0)
    plan, fr = make_plan(_spec(tmp_path, "c", epochs=3), None)
    r = restore_cache(plan, fr, results)
    assert (r.written, r.present, r.unmatched) == (3, 0, 1)
    changed = run_frontier(_spec(tmp_path, "c", epochs=3), None, cached_only=True)
    assert not changed["complete"] and "other" not in changed["variants"]
    assert (
        json.loads((tmp_path / "out" / "c.json").read_text())["variants"]["tt"]
        == first["variants"]["tt"]
    )
