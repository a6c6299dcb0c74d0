from __future__ import annotations

import time

import numpy as np
import pytest

from training.config import ConfigError, DataConfig, SyntheticConfig, load_config
from training.data.errors import DataError
from training.data.synthetic import (
    PRESETS,
    generate_synthetic,
    load_synthetic,
    resolve_spec,
    synthetic_latents,
)


def _cfg(seed: int = 0, **synthetic: object) -> DataConfig:
    return DataConfig(seed=seed, synthetic=SyntheticConfig(**{"preset": "tiny", **synthetic}))


def _field_arrays(ds) -> list[np.ndarray]:
    out = []
    for tab in (ds.item_features, ds.user_features):
        for f in tab.fields:
            out += [f.values, f.offsets]
    return out


def test_tiny_sizes_and_catalogue() -> None:
    t0 = time.perf_counter()
    ds = load_synthetic(_cfg())
    elapsed = time.perf_counter() - t0
    n_users, n_items, _ = PRESETS["tiny"]
    assert (ds.n_users, ds.n_items) == (n_users, n_items)
    # Every user and every catalogue item occurs in the interactions.
    assert np.array_equal(np.unique(ds.users), np.arange(n_users))
    assert np.array_equal(np.unique(ds.items), np.arange(n_items))
    assert ds.item_ids[5] == "i5" and ds.user_ids[7] == "u7"
    assert np.bincount(ds.users).min() >= 3  # every user can be split leave-one-out
    pairs = ds.users * n_items + ds.items
    assert len(np.unique(pairs)) == len(pairs)  # no repeated (user, item)
    assert np.all(np.diff(ds.users) >= 0)  # grouped by user
    assert elapsed < 2.0  # the spec asks < 0.5 s; slack for a shared CI core


def test_timestamps_strictly_increase_per_user() -> None:
    ds = load_synthetic(_cfg())
    assert ds.timestamps is not None and ds.timestamps.dtype == np.int64
    same_user = np.diff(ds.users) == 0
    assert np.all(np.diff(ds.timestamps)[same_user] > 0)
    assert load_synthetic(_cfg(with_timestamps=False)).timestamps is None


def test_same_seed_same_arrays_other_seed_differs() -> None:
    a, b, c = load_synthetic(_cfg(1)), load_synthetic(_cfg(1)), load_synthetic(_cfg(2))
    assert np.array_equal(a.users, b.users) and np.array_equal(a.items, b.items)
    assert a.timestamps is not None and b.timestamps is not None
    assert np.array_equal(a.timestamps, b.timestamps)
    fa, fb = _field_arrays(a), _field_arrays(b)
    assert len(fa) == len(fb) and all(np.array_equal(x, y) for x, y in zip(fa, fb, strict=True))
    assert not (len(a.items) == len(c.items) and np.array_equal(a.items, c.items))
    cat_a, cat_c = a.item_features["category"].values, c.item_features["category"].values
    assert not np.array_equal(cat_a, cat_c)


def test_popularity_is_long_tailed() -> None:
    ds = load_synthetic(_cfg())
    counts = np.sort(np.bincount(ds.items, minlength=ds.n_items))[::-1]
    head = counts[: ds.n_items // 5].sum() / counts.sum()
    assert head > 0.4  # equal popularity would give about 0.2
    flat = load_synthetic(_cfg(popularity_exponent=0.0))
    flat_counts = np.sort(np.bincount(flat.items, minlength=flat.n_items))[::-1]
    assert flat_counts[: flat.n_items // 5].sum() / flat_counts.sum() < head


def test_item_category_carries_latent_signal() -> None:
    ds, lat = generate_synthetic(_cfg())
    v = lat.item_factors / np.linalg.norm(lat.item_factors, axis=1, keepdims=True)
    cos = v @ v.T  # [n_items, n_items]
    cat = ds.item_features["category"].values  # single-valued: one value per row
    same = (cat[:, None] == cat[None, :]) & ~np.eye(len(cat), dtype=bool)
    others = ~np.eye(len(cat), dtype=bool)
    assert cos[same].mean() > cos[others].mean() + 0.3


def test_genre_is_the_largest_latent_dims_up_to_noise() -> None:
    ds, lat = generate_synthetic(_cfg(feature_noise=0.0))
    genre = ds.item_features["genre"]
    top = np.argsort(-lat.item_factors, axis=1)[:, :2]
    for i in (0, 17, 123):
        assert set(genre.row(i)) == {f"g{j}" for j in top[i]}
    cat = ds.item_features["category"]
    assert [cat.row(i)[0] for i in range(5)] == [f"c{k}" for k in lat.item_cluster[:5]]


def test_users_interact_mostly_with_their_segment() -> None:
    ds, lat = generate_synthetic(_cfg())
    spec = resolve_spec(_cfg())
    hit = lat.item_cluster[ds.items] == lat.user_cluster[ds.users]
    assert hit.mean() > 3.0 / spec.n_clusters  # chance would be 1 / n_clusters
    seg = ds.user_features["segment"].values - 1  # codes, in cluster order
    assert (seg == lat.user_cluster).mean() > 0.8  # feature_noise 0.1 flips ~10%


def test_latents_function_matches_generate() -> None:
    lat = synthetic_latents(_cfg(3))
    _, lat2 = generate_synthetic(_cfg(3))
    assert np.array_equal(lat.item_factors, lat2.item_factors)
    assert lat.item_factors.shape == (300, 8) and lat.user_factors.shape == (200, 8)


def test_overrides_and_custom_preset() -> None:
    ds = load_synthetic(_cfg(n_users=30, n_items=50, interactions_per_user=5))
    assert (ds.n_users, ds.n_items) == (30, 50)
    spec = resolve_spec(DataConfig(synthetic=SyntheticConfig(preset="large")))
    assert spec.n_items >= 1_000_000 and spec.n_users == 50_000
    with pytest.raises(DataError, match=r"synthetic\.n_items, synthetic\.interactions_per_user"):
        resolve_spec(DataConfig(synthetic=SyntheticConfig(preset="custom", n_users=10)))


@pytest.mark.parametrize(("field", "value"), [("interactions_per_user", 200), ("n_items", 5)])
def test_invalid_parameters_name_the_field(field: str, value: object) -> None:
    with pytest.raises(DataError, match=rf"synthetic\.{field}"):
        load_synthetic(_cfg(**{field: value}))


@pytest.mark.parametrize(
    ("field", "value"),
    [("n_users", 0), ("feature_noise", 1.5), ("latent_dim", 1), ("popularity_exponent", -1)],
)
def test_out_of_range_parameters_are_refused_by_the_config(field: str, value: object) -> None:
    # Single-field bounds live in SyntheticConfig: refused before any data is generated.
    with pytest.raises(ConfigError, match=rf"data\.synthetic\.{field}: Input should be"):
        load_config(None, [f"data.synthetic.{field}={value}"])
