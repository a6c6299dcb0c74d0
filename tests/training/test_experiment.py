"""The experiment runner: variants × seeds into a results table, resumable from its cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import training.experiment as experiment

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path) -> Path:
    f = tmp_path / "exp.toml"
    f.write_text(f"""
[experiment]
name = "tiny"
base = "{ROOT / "configs" / "tiny.toml"}"
out = "{tmp_path / "out" / "tiny"}"
seeds = [0, 1]
cache_dir = "{tmp_path / "cache"}"
plots = ["curriculum", "projection", "lambda_p"]
bundles = ["mirec"]

[[variant]]
name = "two_tower"
set = ["train.epochs=1"]

[[variant]]
name = "ssl_rfm"
set = ["train.epochs=1", "model.kind='ssl'", "ssl.mode='rfm'", "ssl.batch_size=32"]
seeds = [0]

[[variant]]
name = "mirec"
set = ["model.kind='mirec'", "mirec.many_shot_epochs=1", "mirec.few_shot_epochs=1"]
seeds = [0]
""")
    return f


def test_experiment_writes_the_table_and_resumes_from_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    f = _write(tmp_path)
    doc = experiment.run_experiment(f)
    assert [r["variant"] for r in doc["rows"]] == ["two_tower", "ssl_rfm", "mirec"]
    assert [r["n_seeds"] for r in doc["rows"]] == [2, 1, 1]
    on_disk = json.loads((tmp_path / "out" / "tiny.json").read_text())
    assert (
        on_disk["rows"][0]["metrics"]["tail"]["HR@50"]["mean"]
        == doc["rows"][0]["metrics"]["tail"]["HR@50"]["mean"]
    )
    assert (tmp_path / "out" / "tiny.md").read_text().count("two_tower") >= 1
    for png in ("curriculum", "projection", "lambda_p"):
        assert (tmp_path / "out" / f"tiny_{png}.png").stat().st_size > 1000
    assert len(list((tmp_path / "cache").glob("*.json"))) == 4  # 2 + 1 + 1 runs
    manifest = json.loads(
        (tmp_path / "cache" / "bundles" / "tiny" / "mirec" / "manifest.json").read_text()
    )
    assert manifest["kind"] == "mirec"

    # A second invocation trains nothing: every run comes from the cache.
    def boom(*a: object, **k: object) -> None:
        raise AssertionError("a cached run was trained again")

    monkeypatch.setattr(experiment, "run_one", boom)
    again = experiment.run_experiment(f)
    assert again["rows"][0]["metrics"] == doc["rows"][0]["metrics"]


def test_unknown_experiment_keys_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[experiment]\nname = "x"\nseedz = [1]\n[[variant]]\nname = "a"\n')
    with pytest.raises(experiment.ConfigError, match="seedz"):
        experiment.load_experiment(f)


def test_cached_only_tabulates_what_is_there_and_says_it_is_partial(tmp_path: Path) -> None:
    f = _write(tmp_path)
    empty = experiment.run_experiment(f, cached_only=True)
    assert empty["rows"] == [] and empty["complete"] is False
    md = (tmp_path / "out" / "tiny.md").read_text()
    assert "Partial table" in md and "two_tower" in md


def test_figures_draw_full_mirec_not_its_many_shot_ablation() -> None:
    from training.reporting.plots import _pick

    def rec(few: int) -> dict:
        mirec = {
            "curriculum": "ltcur",
            "meta": "residual",
            "mse": True,
            "few_shot_init": "many_shot",
            "few_shot_epochs": few,
            "many_shot_epochs": None,
        }
        return {"config": {"model": {"kind": "mirec"}, "mirec": mirec}, "seed": 0}

    picked = _pick({"many_shot": [rec(0)], "mirec": [rec(2)]}, "ltcur")
    assert picked is not None and picked[0] == "mirec"
