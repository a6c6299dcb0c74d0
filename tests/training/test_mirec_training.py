"""MIRec training sets, curricula, and the trained bundle's blend identity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from models.bundle import load_bundle
from models.feature_batch import TensorTable
from training.config import load_config
from training.pipeline import train_to_bundle
from training.protocol.prepared import prepare
from training.trainers.curriculum import build_curriculum
from training.trainers.omega import omega_k_mask

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"


def test_omega_k_cuts_every_head_item_to_exactly_k_and_leaves_tail_untouched() -> None:
    rng = np.random.default_rng(0)
    # Items 0..2 head with 10, 7, 5 interactions; items 3, 4 tail with 4 and 1; k = 5.
    items = rng.permutation(np.repeat(np.arange(5), [10, 7, 5, 4, 1]))
    is_tail = np.array([False, False, False, True, True])
    keep = omega_k_mask(items, is_tail, 5, np.random.default_rng(1))
    kept = np.bincount(items[keep], minlength=5)
    assert kept.tolist() == [5, 5, 5, 4, 1]
    # Redrawn per seed: another seed keeps another subset of item 0's interactions.
    keep2 = omega_k_mask(items, is_tail, 5, np.random.default_rng(2))
    assert np.bincount(items[keep2], minlength=5).tolist() == [5, 5, 5, 4, 1]
    assert not np.array_equal(keep & (items == 0), keep2 & (items == 0))


def test_omega_k_on_real_split_counts() -> None:
    cfg = load_config(TINY)
    p = prepare(cfg.data)
    cur = build_curriculum("ltcur", p, seed=0)
    users0, items0 = cur.phase1
    assert len(items0) == len(p.split.train_items)  # Ω* is everything
    _, items = cur.phase2(0)
    counts = np.bincount(items, minlength=p.dataset.n_items)
    ht = p.headtail
    assert np.all(counts[~ht.is_tail] == ht.k)
    assert np.array_equal(counts[ht.is_tail], ht.train_counts[ht.is_tail])
    _, items_e1 = cur.phase2(1)
    assert np.array_equal(np.bincount(items_e1, minlength=p.dataset.n_items), counts)


@pytest.mark.parametrize(
    "name,first_tail,second_tail", [("head2tail", False, True), ("tail2head", True, False)]
)
def test_head_tail_curricula_split_by_item_popularity(
    name: str, first_tail: bool, second_tail: bool
) -> None:
    p = prepare(load_config(TINY).data)
    cur = build_curriculum(name, p, seed=0)
    assert np.all(p.headtail.is_tail[cur.phase1[1]] == first_tail)
    assert np.all(p.headtail.is_tail[cur.phase2(0)[1]] == second_tail)
    assert len(cur.phase1[1]) + len(cur.phase2(0)[1]) == len(p.split.train_items)


@pytest.fixture(scope="module")
def mirec_bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = load_config(
        TINY, ["model.kind=mirec", "mirec.many_shot_epochs=2", "mirec.few_shot_epochs=2"]
    )
    out = train_to_bundle(cfg, tmp_path_factory.mktemp("mirec") / "bundle")
    assert out is not None
    return out


def test_mirec_bundle_index_score_equals_the_blend_formula(mirec_bundle: Path) -> None:
    b = load_bundle(mirec_bundle)
    assert b.kind == "mirec"
    assert b.lambda_p is not None and 0.0 <= b.lambda_p <= 1.0
    model = b.build_model()
    users = TensorTable.from_table(b.user_table).gather(torch.arange(8))
    items = TensorTable.from_table(b.item_table).all_rows()
    for lam in (0.0, 0.3, b.lambda_p, 1.0):
        q = b.query_encoder().encode_known(np.arange(8), lambda_p=lam)  # [8, 2d]
        index_scores = q @ b.embeddings.T  # what one inner-product search computes
        with torch.no_grad():
            u_star, i_star = model.many_shot.user_embed(users), model.many_shot.item_embed(items)
            fu = model.f_user(model.few_shot.user_embed(users))
            fi = model.f_item(model.few_shot.item_embed(items))
            direct = lam * (u_star @ i_star.T) + (1 - lam) * (fu @ fi.T)
        np.testing.assert_allclose(index_scores, direct.numpy(), rtol=1e-4, atol=1e-4)


def test_mirec_manifest_records_the_lambda_sweep_and_loss_curves(mirec_bundle: Path) -> None:
    m = load_bundle(mirec_bundle).manifest
    sweep = m["lambda_p_sweep"]
    assert [r["lambda_p"] for r in sweep] == [round(0.1 * i, 1) for i in range(11)]
    best = max(sweep, key=lambda r: r["all_NDCG@50"])["lambda_p"]
    assert m["lambda_p"] == best
    hist = m["training"]["history"]
    assert {h["phase"] for h in hist} == {1, 2}
    for h in hist:
        for key in ("train_loss", "valid_loss"):
            assert set(h[key]) == {"all", "head", "tail"}


def test_tail_at_budget_rule_is_applied_and_recorded(tmp_path: Path) -> None:
    cfg = load_config(
        TINY,
        [
            "model.kind=mirec",
            "mirec.many_shot_epochs=1",
            "mirec.few_shot_epochs=1",
            "mirec.lambda_p_rule=tail_at_budget",
            "mirec.lambda_p_epsilon=0.05",
        ],
    )
    out = train_to_bundle(cfg, tmp_path / "bundle")
    assert out is not None
    m = json.loads((out / "manifest.json").read_text())
    assert m["lambda_p_rule"] == "tail_at_budget" and m["lambda_p_epsilon"] == 0.05
    sweep = m["lambda_p_sweep"]
    floor = 0.95 * max(r["all_NDCG@50"] for r in sweep)
    eligible = [r for r in sweep if r["all_NDCG@50"] >= floor]
    assert m["lambda_p"] in {r["lambda_p"] for r in eligible}
    best_tail = max(r["tail_HR@50"] for r in eligible)
    chosen = next(r for r in sweep if r["lambda_p"] == m["lambda_p"])
    assert chosen["tail_HR@50"] == best_tail
    assert load_bundle(out).lambda_p == m["lambda_p"]  # what the service serves


def test_the_sweep_row_at_the_served_lambda_equals_its_own_validation(mirec_bundle: Path) -> None:
    """The sweep embeds the catalogue once for every λ_p; the served λ_p's validation embeds it
    again on its own: both must give the same figures."""
    m = load_bundle(mirec_bundle).manifest
    chosen = next(r for r in m["lambda_p_sweep"] if r["lambda_p"] == m["lambda_p"])
    valid = m["metrics"]["valid"]["metrics"]
    for s in ("all", "head", "tail"):
        assert chosen[f"{s}_NDCG@50"] == pytest.approx(valid[s]["NDCG@50"], abs=1e-12)
        assert chosen[f"{s}_HR@50"] == pytest.approx(valid[s]["HR@50"], abs=1e-12)
