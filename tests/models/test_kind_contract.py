"""The contract every model kind keeps, run for each kind in models/kinds.py:KINDS: train a tiny
model, write its bundle, load it back, score exactly as the trained model did, serve it through
the app and recommend. A new kind registered there is tested here without editing this file."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from pydantic import ValidationError

from models.bundle import load_bundle
from models.kinds import KIND_NAMES, KINDS
from service.app import create_app
from service.settings import settings_from_dict
from training import pipeline
from training.config import ModelConfig, load_config
from training.experiment import run_key
from training.pipeline import train_model, write_exported
from training.protocol.prepared import Prepared, prepare
from training.trainers import TRAINERS
from training.trainers.distributed import DistContext
from training.trainers.exported import Exported

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
from svc_helpers import live  # noqa: E402  (the service tests' real uvicorn server)

TINY = Path(__file__).resolve().parents[2] / "configs" / "tiny.toml"
# Options a kind needs to train at all, or in seconds; a kind not named here trains as configured.
KIND_OPTIONS: dict[str, list[str]] = {
    "ssl": ['ssl.mode="cfm"'],
    "mirec": ["mirec.many_shot_epochs=1", "mirec.few_shot_epochs=1"],
}


def test_every_kind_has_a_trainer_and_a_config_name() -> None:
    assert set(TRAINERS) == set(KIND_NAMES)
    for name in KIND_NAMES:  # the config accepts exactly the registered kinds
        assert ModelConfig(kind=name).kind == name
    with pytest.raises(ValidationError, match="unknown model kind"):
        ModelConfig(kind="not_a_kind")


@pytest.fixture(scope="module")
def prepared() -> Prepared:
    return prepare(load_config(TINY).data)


@pytest.fixture(scope="module", params=list(KINDS))
def trained(
    request: pytest.FixtureRequest, prepared: Prepared, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Exported, Path]]:
    kind: str = request.param
    cfg = load_config(TINY, [f'model.kind="{kind}"', "train.epochs=1",
                             *KIND_OPTIONS.get(kind, [])])
    exp = train_model(cfg, prepared, DistContext())
    assert exp is not None and exp.kind == kind
    out = tmp_path_factory.mktemp(f"kind-{kind}") / "bundle"
    write_exported(exp, prepared, cfg, out, pipeline.test_metrics(exp, prepared, cfg))
    yield kind, exp, out


def test_bundle_scores_equal_the_trained_model(trained: tuple[str, Exported, Path]) -> None:
    kind, exp, out = trained
    b = load_bundle(out)
    ks = KINDS[kind]
    assert b.kind == kind and b.index_dim == ks.index_dim(b.spec) == exp.item_vectors.shape[1]
    assert b.lambda_p == exp.lambda_p and (b.lambda_p is not None) == ks.has_lambda_p
    np.testing.assert_array_equal(b.embeddings, exp.item_vectors.astype(np.float32))
    # The served query path (rebuilt model from the weights file) gives the trained user vectors.
    enc = b.query_encoder()
    users = enc.encode_known(np.arange(len(b.user_ids)))
    np.testing.assert_allclose(users, exp.user_vectors, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(users @ b.embeddings.T, exp.user_vectors @ exp.item_vectors.T,
                               rtol=1e-4, atol=1e-5)


def test_served_recommendations_are_the_models_top_k(
    trained: tuple[str, Exported, Path],
) -> None:
    kind, exp, out = trained
    b = load_bundle(out)
    settings = settings_from_dict({
        "variants": {"v": {"bundle": str(out), "index": {"kind": "flat"}}},
        "buckets": {"control": {"variant": "v", "weight": 1}},
        "admin_token": "contract-test-admin-token",
    })
    user, k = b.user_ids[3], 5
    # Expected: the trained model's top-k among the items the user has not interacted with.
    assert b.user_history is not None
    indptr, hist = b.user_history
    seen = set(hist[indptr[3]:indptr[4]].tolist())
    scores = exp.user_vectors[3] @ exp.item_vectors.T  # [n_items]
    order = [i for i in np.argsort(-scores, kind="stable") if i not in seen][:k]
    with live(create_app(settings)) as s, httpx.Client(base_url=s.url, timeout=10) as c:
        r = c.post("/recommend", json={"user_id": user, "k": k})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["variant"] == "v" and body["model_version"].startswith(f"{kind}-")
    assert [i["item_id"] for i in body["items"]] == [b.item_ids[i] for i in order]
    np.testing.assert_allclose([i["score"] for i in body["items"]], scores[order], rtol=1e-4,
                               atol=1e-5)
    assert body["lambda_p"] == (exp.lambda_p if KINDS[kind].has_lambda_p else None)


def test_run_key_ignores_sections_of_other_kinds() -> None:
    # A two-tower run does not read the MIRec section, so its key (and cache entry) ignores it;
    # a MIRec run's key changes with it. Same rule as before the trainer registry.
    base = ['model.kind="two_tower"']
    other = [*base, "mirec.lambda_p=0.3"]
    assert run_key(load_config(TINY, base)) == run_key(load_config(TINY, other))
    m = ['model.kind="mirec"']
    assert run_key(load_config(TINY, m)) != run_key(load_config(TINY, [*m, "mirec.lambda_p=0.3"]))
