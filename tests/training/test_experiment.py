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


def test_unknown_variant_keys_and_bad_values_are_refused(tmp_path: Path) -> None:
    f = tmp_path / "bad.toml"
    f.write_text('[experiment]\nseeds = [0]\n[[variant]]\nname = "a"\nsett = []\n')
    with pytest.raises(experiment.ConfigError, match=r"bad.toml: variant\.0\.sett: Extra inputs"):
        experiment.load_experiment(f)
    f.write_text('[experiment]\nseeds = ["x"]\n[[variant]]\nname = "a"\n')
    with pytest.raises(experiment.ConfigError, match=r"experiment\.seeds\.0: Input should be"):
        experiment.load_experiment(f)
    f.write_text('[experiment]\nbundles = ["b"]\n[[variant]]\nname = "a"\n')
    with pytest.raises(experiment.ConfigError, match=r"bundles names unknown variants \['b'\]"):
        experiment.load_experiment(f)
    f.write_text("[experiment]\n")
    with pytest.raises(experiment.ConfigError, match=r"variant: Field required"):
        experiment.load_experiment(f)


def test_a_bad_variant_fails_at_load_before_anything_trains(tmp_path: Path) -> None:
    f = tmp_path / "exp.toml"
    f.write_text(
        '[experiment]\nseeds = [0]\n[[variant]]\nname = "ok"\n'
        '[[variant]]\nname = "late"\nset = ["mirec.lambda_p=1.5"]\n'
    )
    with pytest.raises(
        experiment.ConfigError, match=r"variant 'late': mirec\.lambda_p: Input should be less"
    ):
        experiment.load_experiment(f)


def test_paths_resolve_against_the_experiment_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "configs" / "experiments"
    folder.mkdir(parents=True)
    (tmp_path / "configs" / "base.toml").write_text("[train]\nepochs = 3\n")
    f = folder / "e.toml"
    f.write_text(
        '[experiment]\nname = "e"\nbase = "../base.toml"\nout = "../../docs/results/e"\n'
        'cache_dir = "../../runs/cache/e"\n[[variant]]\nname = "a"\n'
    )
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)  # not the folder the paths are relative to
    spec = experiment.load_experiment(f)
    assert spec.base_raw == {"train": {"epochs": 3}}
    assert spec.out == (tmp_path / "docs" / "results" / "e").resolve()
    assert spec.cache_dir == (tmp_path / "runs" / "cache" / "e").resolve()
    monkeypatch.chdir(tmp_path)  # below the working directory: shown relative to it
    spec = experiment.load_experiment(f.relative_to(tmp_path))
    assert spec.out == Path("docs/results/e") and spec.cache_dir == Path("runs/cache/e")


def test_repo_experiment_files_load_from_the_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    for f in sorted((ROOT / "configs" / "experiments").glob("*.toml")):
        spec = experiment.load_experiment(f.relative_to(ROOT))
        # The paths the Makefile's claims target and the docs name, as before the change.
        assert spec.out == Path("docs/results") / spec.name, f
        assert spec.cache_dir.parent == Path("runs/cache"), f
        assert spec.base_raw["data"]["dataset"] in ("ml-1m", "ml-100k"), f


def test_run_keys_are_those_of_the_existing_caches(monkeypatch: pytest.MonkeyPatch) -> None:
    # Computed at f6ab327, before the config got bounds and the experiment spec became a model:
    # the cached runs under runs/cache/ must keep their file names.
    from training.config import load_config

    monkeypatch.chdir(ROOT)
    assert experiment.run_key(load_config(None)) == "db340b73198c46e2"
    cfg = load_config("configs/ml1m_mirec.toml", ["train.seed=1"])
    assert experiment.run_key(cfg) == "58572e6a1498fc19"
