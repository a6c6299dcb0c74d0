"""The two-tower / SSL trainer on the tiny synthetic preset: bundles, reload metrics, SSL modes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from models.bundle import load_bundle
from training.config import load_config
from training.evaluation.bundle import evaluate_bundle
from training.pipeline import train_to_bundle
from training.protocol.prepared import prepare
from training.trainers.distributed import DistContext
from training.trainers.two_tower import train_two_tower

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"


def test_bundle_reload_gives_the_metrics_measured_at_the_end_of_training(tmp_path: Path) -> None:
    cfg = load_config(TINY, ["model.kind=ssl", "ssl.mode=cfm", "ssl.batch_size=32"])
    out = train_to_bundle(cfg, tmp_path / "bundle")
    assert out is not None
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "ssl"
    assert manifest["config"]["ssl"]["mode"] == "cfm"
    reloaded = evaluate_bundle(out, role="test")
    assert reloaded["metrics"] == manifest["metrics"]["test"]["metrics"]
    assert reloaded["exposure"] == manifest["metrics"]["test"]["exposure"]
    b = load_bundle(out)
    assert b.embeddings.shape == (len(b.item_ids), manifest["index_dim"])
    # The bundle carries each user's interactions, for the service to exclude.
    ds = prepare(cfg.data).dataset
    assert b.user_history is not None
    indptr, hist = b.user_history
    for u in (0, 7, ds.n_users - 1):
        assert sorted(hist[indptr[u] : indptr[u + 1]].tolist()) == sorted(
            ds.items[ds.users == u].tolist()
        )


@pytest.mark.parametrize("mode", ["none", "fd", "so", "rfm", "cfm"])
def test_every_ssl_mode_trains_and_improves_on_random(mode: str) -> None:
    cfg = load_config(TINY, [f"ssl.mode={mode}", "ssl.batch_size=32", "train.epochs=3"])
    p = prepare(cfg.data)
    res = train_two_tower(cfg, p, DistContext())
    losses = [h["train_loss"] for h in res.history]
    assert all(np.isfinite(losses))
    assert res.valid is not None
    # A trained model ranks the held-out item far better than chance (HR@50 of random ~ 50/n_items).
    chance = 50 / p.dataset.n_items
    assert res.valid.metrics["all"]["HR@50"] > 1.5 * chance


def test_early_stopping_keeps_the_best_epoch() -> None:
    cfg = load_config(TINY, ["train.epochs=6", "train.patience=1", "train.lr=0.05"])
    res = train_two_tower(cfg, prepare(cfg.data), DistContext())
    scores = [h["valid_ndcg@50"] for h in res.history]
    assert res.best_epoch == int(np.argmax(scores))
    assert res.valid is not None
    assert res.valid.metrics["all"]["NDCG@50"] == pytest.approx(max(scores), abs=1e-9)


def test_validation_ranks_the_configured_sample_of_users_and_test_ranks_all() -> None:
    from training.evaluation.scorers import evaluate_vectors

    cfg = load_config(TINY, ["eval.valid_users=7"])
    p = prepare(cfg.data)
    rng = np.random.default_rng(0)
    users = rng.standard_normal((p.dataset.n_users, 4)).astype(np.float32)
    items = rng.standard_normal((p.dataset.n_items, 4)).astype(np.float32)
    valid = evaluate_vectors(users, items, p, cfg, "valid")
    test = evaluate_vectors(users, items, p, cfg, "test")
    assert valid.n_users["all"] == 7
    assert test.n_users["all"] == len(p.split.eval_users("test")) > 7
    again = evaluate_vectors(users, items, p, cfg, "valid")
    assert valid.metrics == again.metrics  # one fixed sample: every epoch judged on the same users


def test_bf16_steps_train_as_well_and_change_the_run_key_only_when_set() -> None:
    from training.experiment import run_key
    from training.trainers.context import step_precision

    base = load_config(TINY, ["train.epochs=3", "model.negatives=full"])
    bf16 = load_config(TINY, ["train.epochs=3", "model.negatives=full", "train.precision=bf16"])
    assert run_key(base) == run_key(
        load_config(TINY, ["train.epochs=3", "model.negatives=full", "train.precision=fp32"])
    )
    assert run_key(bf16) != run_key(base)
    # Under the bf16 context a matmul really runs in bfloat16; outside it in float32.
    a = torch.randn(4, 8)
    with step_precision(bf16, torch.device("cpu")):
        assert (a @ a.T).dtype == torch.bfloat16
    with step_precision(base, torch.device("cpu")):
        assert (a @ a.T).dtype == torch.float32
    p = prepare(base.data)
    runs = [train_two_tower(c, p, DistContext()) for c in (base, bf16)]
    hr = [r.valid.metrics["all"]["HR@50"] for r in runs if r.valid is not None]
    # Weights stay float32 and the bf16 run learns as well, within bf16's rounding.
    assert all(prm.dtype == torch.float32 for prm in runs[1].model.parameters())
    assert hr[1] > 1.5 * 50 / p.dataset.n_items and abs(hr[1] - hr[0]) < 0.1 * hr[0] + 0.02
