"""Leave-one-out split, exclusion CSR, training-fraction subsampling and the fingerprint."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from models.feature_table import CategoricalField, FeatureTable
from training.data.dataset import Dataset
from training.protocol.fingerprint import dataset_fingerprint
from training.protocol.split import Split, make_split


def make_ds(
    users: list[int] | np.ndarray,
    items: list[int] | np.ndarray,
    timestamps: list[int] | np.ndarray | None = None,
    n_users: int | None = None,
    n_items: int | None = None,
) -> Dataset:
    u = np.asarray(users, dtype=np.int64)
    i = np.asarray(items, dtype=np.int64)
    nu = n_users if n_users is not None else int(u.max()) + 1
    ni = n_items if n_items is not None else int(i.max()) + 1
    user_ids = tuple(f"u{x}" for x in range(nu))
    item_ids = tuple(f"i{x}" for x in range(ni))
    return Dataset(
        name="fixture",
        user_ids=user_ids,
        item_ids=item_ids,
        users=u,
        items=i,
        timestamps=None if timestamps is None else np.asarray(timestamps, dtype=np.int64),
        item_features=FeatureTable((CategoricalField.from_single("item_id", item_ids),)),
        user_features=FeatureTable((CategoricalField.from_single("user_id", user_ids),)),
    )


def pairs(users: np.ndarray, items: np.ndarray) -> Counter[tuple[int, int]]:
    return Counter(zip(users.tolist(), items.tolist(), strict=True))


def random_ds(seed: int, timestamps: bool) -> Dataset:
    """60 users with 0..14 distinct items each (out of 40), distinct timestamps per user."""
    rng = np.random.default_rng(seed)
    us, its, ts = [], [], []
    for u in range(60):
        n = int(rng.integers(0, 15))
        chosen = rng.choice(40, size=n, replace=False)
        stamps = rng.choice(1000, size=n, replace=False)
        us += [u] * n
        its += chosen.tolist()
        ts += stamps.tolist()
    perm = rng.permutation(len(us))  # interleave users, as real files do
    return make_ds(
        np.asarray(us)[perm],
        np.asarray(its)[perm],
        np.asarray(ts)[perm] if timestamps else None,
        n_users=60,
        n_items=40,
    )


def test_temporal_roles_ties_and_small_users() -> None:
    # user 0: items 10..14 at times 5, 1, 9, 3, 7 -> order 11, 13, 10, 14, 12: test 12, valid 14
    # user 1: times 2, 7, 7 -> tie at 7 broken by file order: item 21 then 22: test 22, valid 21
    # user 2: two interactions -> all training; user 3: none
    ds = make_ds(
        users=[0, 1, 0, 0, 1, 2, 0, 1, 0, 2],
        items=[10, 20, 11, 12, 21, 30, 13, 22, 14, 31],
        timestamps=[5, 2, 1, 9, 7, 4, 3, 7, 7, 4],
        n_users=4,
        n_items=32,
    )
    sp = make_split(ds, seed=0)
    assert sp.test_users.tolist() == [0, 1]
    assert sp.valid_users.tolist() == [0, 1]
    assert sp.test_items.tolist() == [12, 22]
    assert sp.valid_items.tolist() == [14, 21]
    # Training keeps the file's order.
    assert sp.train_users.tolist() == [0, 1, 0, 2, 0, 2]
    assert sp.train_items.tolist() == [10, 20, 11, 30, 13, 31]
    assert (sp.n_users, sp.n_items) == (4, 32)
    for arr in (sp.train_users, sp.train_items, sp.test_items, sp.valid_items):
        assert arr.dtype == np.int64


def test_tie_order_is_file_order_not_item_order() -> None:
    # Same timestamps everywhere: roles follow the file's order alone.
    ds = make_ds(users=[0, 0, 0, 0], items=[3, 1, 2, 0], timestamps=[4, 4, 4, 4])
    sp = make_split(ds, seed=0)
    assert sp.test_items.tolist() == [0]
    assert sp.valid_items.tolist() == [2]
    assert sp.train_items.tolist() == [3, 1]


def test_exactly_three_interactions() -> None:
    sp = make_split(make_ds([0, 0, 0], [0, 1, 2], [3, 2, 1]), seed=0)
    assert sp.train_items.tolist() == [2]
    assert sp.valid_items.tolist() == [1]
    assert sp.test_items.tolist() == [0]


@pytest.mark.parametrize("temporal", [True, False])
def test_invariants_on_random_data(temporal: bool) -> None:
    ds = random_ds(1, timestamps=temporal)
    sp = make_split(ds, seed=7)
    counts = np.bincount(ds.users, minlength=ds.n_users)
    eligible = np.flatnonzero(counts >= 3)
    assert sp.test_users.tolist() == eligible.tolist()
    assert len(sp.test_items) == len(sp.valid_items) == len(eligible)
    # Every interaction lands in exactly one role: no leakage, nothing lost.
    assert pairs(sp.train_users, sp.train_items) + pairs(sp.valid_users, sp.valid_items) + pairs(
        sp.test_users, sp.test_items
    ) == pairs(ds.users, ds.items)
    # Users with < 3 interactions keep all of them in training.
    small = set(np.flatnonzero(counts < 3).tolist())
    train_c = np.bincount(sp.train_users, minlength=ds.n_users)
    for u in small:
        assert train_c[u] == counts[u]
    assert sp.n_train == ds.n_interactions - 2 * len(eligible)
    if temporal:
        assert ds.timestamps is not None
        ts = {
            (u, i): t
            for u, i, t in zip(
                ds.users.tolist(), ds.items.tolist(), ds.timestamps.tolist(), strict=True
            )
        }
        for u, v, t in zip(
            sp.test_users.tolist(), sp.valid_items.tolist(), sp.test_items.tolist(), strict=True
        ):
            train_ts = [ts[(u, i)] for i in sp.train_items[sp.train_users == u].tolist()]
            assert ts[(u, t)] >= ts[(u, v)] >= max(train_ts)


def test_random_loo_seeded() -> None:
    ds = random_ds(2, timestamps=False)
    a, b, c = make_split(ds, seed=3), make_split(ds, seed=3), make_split(ds, seed=4)
    assert np.array_equal(a.test_items, b.test_items)
    assert np.array_equal(a.valid_items, b.valid_items)
    assert np.array_equal(a.train_items, b.train_items)
    assert not np.array_equal(a.test_items, c.test_items)


def test_random_loo_does_not_always_pick_the_last() -> None:
    ds = make_ds([0] * 10, list(range(10)))
    tests = {int(make_split(ds, seed=s).test_items[0]) for s in range(30)}
    assert len(tests) > 3


def test_duplicates_kept_as_they_come() -> None:
    ds = make_ds([0, 0, 0, 0], [5, 5, 6, 5], [1, 2, 3, 4])
    sp = make_split(ds, seed=0)
    assert sp.test_items.tolist() == [5]
    assert sp.valid_items.tolist() == [6]
    assert sp.train_items.tolist() == [5, 5]


def test_exclusion_csr() -> None:
    ds = make_ds(
        [0, 0, 0, 0, 1, 1, 2, 2, 2],
        [1, 2, 3, 4, 0, 1, 4, 0, 3],
        [1, 2, 3, 4, 1, 2, 1, 2, 3],
        n_users=3,
        n_items=5,
    )
    sp = make_split(ds, seed=0)
    indptr, idx = sp.exclusion_csr("test")
    assert indptr.dtype == np.int64 and idx.dtype == np.int64
    assert indptr.tolist() == [0, 3, 5, 7]
    assert sorted(idx[0:3].tolist()) == [1, 2, 3]  # train 1, 2 + valid 3
    assert sorted(idx[3:5].tolist()) == [0, 1]  # user 1 is all training
    assert sorted(idx[5:7].tolist()) == [0, 4]  # train 4 + valid 0
    indptr, idx = sp.exclusion_csr("valid")
    assert indptr.tolist() == [0, 2, 4, 5]
    assert sorted(idx[0:2].tolist()) == [1, 2]
    assert idx[4:5].tolist() == [4]
    with pytest.raises(ValueError, match="role"):
        sp.exclusion_csr("train")  # type: ignore[arg-type]


def test_with_train_fraction() -> None:
    sp = make_split(random_ds(3, timestamps=True), seed=0)
    half = sp.with_train_fraction(0.5, seed=1)
    assert half.n_train == int(np.floor(0.5 * sp.n_train + 0.5))
    assert np.array_equal(half.test_items, sp.test_items)
    assert np.array_equal(half.valid_items, sp.valid_items)
    assert pairs(half.train_users, half.train_items) + pairs(
        half.held_back_users, half.held_back_items
    ) == pairs(sp.train_users, sp.train_items)
    # Held-back interactions are still excluded: the exclusion sets do not change.
    for role in ("valid", "test"):
        a, b = sp.exclusion_csr(role), half.exclusion_csr(role)
        assert np.array_equal(a[0], b[0])
    again = sp.with_train_fraction(0.5, seed=1)
    other = sp.with_train_fraction(0.5, seed=2)
    assert np.array_equal(again.train_items, half.train_items)
    assert not np.array_equal(
        other.train_users * 100 + other.train_items, half.train_users * 100 + half.train_items
    )
    assert sp.with_train_fraction(1.0, seed=0) is sp
    with pytest.raises(ValueError, match="train_fraction"):
        sp.with_train_fraction(0.0, seed=0)


def test_bad_inputs_are_named() -> None:
    ds = make_ds([0, 1], [0, 1], n_users=2, n_items=2)
    bad = Dataset(
        ds.name,
        ds.user_ids,
        ds.item_ids,
        ds.users,
        np.asarray([0, 5]),
        None,
        ds.item_features,
        ds.user_features,
    )
    with pytest.raises(ValueError, match="item index"):
        make_split(bad, seed=0)
    with pytest.raises(ValueError, match="train_items"):
        Split(
            np.zeros(1, np.int64),
            np.asarray([9]),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            np.zeros(0, np.int64),
            1,
            2,
        )


def test_fingerprint_stable_and_sensitive() -> None:
    ds = random_ds(4, timestamps=True)
    sp = make_split(ds, seed=0)
    fp = dataset_fingerprint(ds, sp)
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert dataset_fingerprint(ds, make_split(ds, seed=0)) == fp
    # A rebuilt, equal dataset gives the same fingerprint.
    assert dataset_fingerprint(random_ds(4, timestamps=True), sp) == fp
    # Changing one item, the timestamps, an id or the split changes it.
    items = ds.items.copy()
    items[0] = (items[0] + 1) % ds.n_items
    moved = make_ds(ds.users, items, ds.timestamps, n_users=60, n_items=40)
    assert dataset_fingerprint(moved, sp) != fp
    assert ds.timestamps is not None
    no_ts = make_ds(ds.users, ds.items, None, n_users=60, n_items=40)
    assert dataset_fingerprint(no_ts, sp) != fp
    renamed = Dataset(
        ds.name,
        ("x", *ds.user_ids[1:]),
        ds.item_ids,
        ds.users,
        ds.items,
        ds.timestamps,
        ds.item_features,
        ds.user_features,
    )
    assert dataset_fingerprint(renamed, sp) != fp
    assert dataset_fingerprint(ds, sp.with_train_fraction(0.5, seed=0)) != fp
