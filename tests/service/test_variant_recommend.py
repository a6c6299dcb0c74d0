"""The recommendation itself, without HTTP: MIRec's blend in one search, exclusion, cold start."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from models.feature_batch import TensorTable
from service.cold_start import UnknownFeature
from service.serving_bundle import ServingBundle, load_serving_bundle
from service.settings import IndexOptions
from service.split_index import SplitIndex
from service.variant import LambdaNotApplicable, Variant


@pytest.fixture(scope="module")
def mirec(mirec_bundle: Path) -> ServingBundle:
    return load_serving_bundle(mirec_bundle, IndexOptions(), precompute_users_max=10_000)


def reference_scores(sb: ServingBundle, user_idx: int, lam: float) -> np.ndarray:
    """Paper Eq. 9 straight from the two models' inner products, no index involved."""
    b = sb.bundle
    model = b.build_model()
    users = TensorTable.from_table(b.user_table).gather(torch.tensor([user_idx]))
    items = TensorTable.from_table(b.item_table).all_rows()
    with torch.inference_mode():
        return model.blend_scores(users, items, lam)[0].numpy()


@pytest.mark.parametrize("lam", [0.0, 0.3, 1.0])
def test_one_search_gives_the_exact_mirec_blend(mirec: ServingBundle, lam: float) -> None:
    v = Variant("v", mirec, lambda_p=0.5)
    rec = v.recommend("u7", 20, lambda_p=lam)
    ref = reference_scores(mirec, 7, lam)
    order = np.argsort(-ref, kind="stable")[:20]
    assert rec.lambda_p == lam and not rec.cold_start
    np.testing.assert_allclose(rec.scores, ref[order], rtol=1e-4, atol=1e-5)
    # Same items up to ties in score (rounding can swap two nearly equal neighbours).
    assert set(rec.item_ids[:15]) <= {f"i{i}" for i in np.argsort(-ref)[:20]}


def test_variant_default_lambda_comes_from_config_then_manifest(mirec: ServingBundle) -> None:
    configured = Variant("t", mirec, lambda_p=0.1).recommend("u1", 10)
    assert configured.lambda_p == 0.1
    np.testing.assert_allclose(
        configured.scores, np.sort(reference_scores(mirec, 1, 0.1))[::-1][:10], rtol=1e-4, atol=1e-5
    )


def test_history_and_exclude_are_removed_and_k_is_still_filled(mirec: ServingBundle) -> None:
    v = Variant("v", mirec, lambda_p=0.5)
    top = v.recommend("u3", 30).item_ids
    rec = v.recommend("u3", 10, history=list(top[:5]), exclude=[*top[5:10], "not-an-item"])
    assert len(rec.item_ids) == 10
    assert not set(rec.item_ids) & set(top[:10])
    assert rec.item_ids == top[10:20]


def test_excluding_almost_everything_returns_what_is_left(mirec: ServingBundle) -> None:
    v = Variant("v", mirec, lambda_p=0.5)
    everything = list(mirec.bundle.item_ids)
    rec = v.recommend("u3", 10, history=everything[:150], exclude=everything[150:297])
    assert sorted(rec.item_ids) == sorted(everything[297:])


def test_cold_start_uses_features_and_never_fails(mirec: ServingBundle) -> None:
    v = Variant("v", mirec, lambda_p=0.5)
    plain = v.recommend("stranger", 10)
    assert plain.cold_start and len(plain.item_ids) == 10
    with_features = v.recommend("stranger", 10, features={"gender": "F", "age": "50"})
    assert with_features.scores != plain.scores  # the features changed the query
    unseen_values = v.recommend("stranger", 10, features={"gender": ["??"], "age": []})
    assert unseen_values.scores == plain.scores  # unknown values -> default embeddings
    same_as_encoder = mirec.encoder.encode_features({"gender": "F", "age": "50"}, 0.5)[0]
    np.testing.assert_allclose(mirec.cold_query({"gender": "F", "age": "50"}, 0.5), same_as_encoder)


def test_unknown_feature_field_is_named(mirec: ServingBundle) -> None:
    v = Variant("v", mirec, lambda_p=0.5)
    with pytest.raises(UnknownFeature) as e:
        v.recommend("u1", 5, features={"shoe_size": "44"})
    assert e.value.names == ["shoe_size"] and "gender" in e.value.valid


def test_lambda_override_refused_for_a_two_tower_bundle(two_tower_bundle: Path) -> None:
    sb = load_serving_bundle(two_tower_bundle, IndexOptions(), precompute_users_max=0)
    v = Variant("tt", sb, lambda_p=None)
    rec = v.recommend("u2", 5)  # precompute off: the tower runs per request
    assert rec.lambda_p is None and len(rec.item_ids) == 5
    with pytest.raises(LambdaNotApplicable, match="MIRec"):
        v.recommend("u2", 5, lambda_p=0.5)


@pytest.mark.parametrize("kind", ["hnsw", "ivf"])
def test_approximate_indexes_report_head_and_tail_recall(mirec_bundle: Path, kind: str) -> None:
    opts = IndexOptions(kind=kind, recall_queries=40, recall_k=20, ivf_nlist=8, ivf_nprobe=8)
    sb = load_serving_bundle(mirec_bundle, opts, precompute_users_max=10_000)
    r = sb.recall
    assert r is not None and r.k == 20 and r.n_queries == 40
    assert r.head_truth + r.tail_truth == 40 * 20
    # On 300 items with all 8 IVF lists probed and HNSW's ef = 256, the search is (nearly)
    # exhaustive; the L2 reduction's rounding may swap a near-tie at the 20th place.
    assert r.head is not None and r.tail is not None
    assert r.head >= 0.98 and r.tail >= 0.98


def test_tail_items_indexed_apart_serve_and_report_recall(mirec_bundle: Path) -> None:
    opts = IndexOptions(kind="hnsw", tail_index="apart", recall_queries=40, recall_k=20)
    sb = load_serving_bundle(mirec_bundle, opts, precompute_users_max=10_000)
    assert isinstance(sb.index, SplitIndex) and sb.index.describe() == "hnsw head + flat tail"
    assert sb.recall is not None and sb.recall.tail is not None and sb.recall.tail >= 0.98
    exact = load_serving_bundle(mirec_bundle, IndexOptions(), precompute_users_max=10_000)
    for v in (Variant("v", sb, 0.5), Variant("v", exact, 0.5)):
        rec = v.recommend("u2", 10, history=["i3", "i7"])
        assert len(rec.item_ids) == 10 and not {"i3", "i7"} & set(rec.item_ids)
    # 300 items, ef 256: the graph search over the head is exhaustive, the tail part exact.
    assert Variant("v", sb, 0.5).recommend("u2", 10).item_ids == (
        Variant("v", exact, 0.5).recommend("u2", 10).item_ids
    )


def test_a_known_users_own_interactions_are_excluded(tmp_path: Path) -> None:
    from svc_helpers import make_bundle

    plain = load_serving_bundle(
        make_bundle(tmp_path / "plain"), IndexOptions(), precompute_users_max=10_000
    )
    top = Variant("v", plain, lambda_p=0.5).recommend("u4", 10).item_ids
    seen = np.array(sorted(int(i[1:]) for i in top[:6]), dtype=np.int64)
    indptr = np.zeros(61, dtype=np.int64)
    indptr[5:] = len(seen)  # user u4 (index 4) has seen 6 of its own top items; others nothing
    with_history = make_bundle(tmp_path / "hist", user_history=(indptr, seen))
    sb = load_serving_bundle(with_history, IndexOptions(), precompute_users_max=10_000)
    rec = Variant("v", sb, lambda_p=0.5).recommend("u4", 10)
    assert len(rec.item_ids) == 10
    assert not set(rec.item_ids) & set(top[:6])
    assert rec.item_ids[:4] == top[6:10]
    # Another user is untouched, and a cold-start user has no history to exclude.
    assert (
        Variant("v", sb, lambda_p=0.5).recommend("u9", 10).item_ids
        == Variant("v", plain, lambda_p=0.5).recommend("u9", 10).item_ids
    )
