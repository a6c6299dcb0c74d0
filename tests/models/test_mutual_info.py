from __future__ import annotations

import math
import time

import numpy as np

from models.augment import cfm_group
from models.feature_table import CategoricalField, FeatureTable
from models.mutual_info import mutual_information_table


def test_copy_beats_independent_noise() -> None:
    # A alternates x, y; B is a copy of A; C is p, p, q, q: independent of A over 4 items.
    a = ["x", "y", "x", "y"]
    table = FeatureTable(
        (
            CategoricalField.from_single("A", a),
            CategoricalField.from_single("B", list(a)),
            CategoricalField.from_single("C", ["p", "p", "q", "q"]),
        )
    )
    mi = mutual_information_table(table)
    assert mi.dtype == np.float64 and mi.shape == (3, 3)
    np.testing.assert_allclose(mi, mi.T)
    np.testing.assert_allclose(np.diag(mi), 0.0)
    # MI(A, B) = H(A) = log 2 (two equally likely values); MI(A, C) = MI(B, C) = 0
    np.testing.assert_allclose(mi[0, 1], math.log(2))
    np.testing.assert_allclose(mi[0, 2], 0.0, atol=1e-12)
    np.testing.assert_allclose(mi[1, 2], 0.0, atol=1e-12)
    assert cfm_group(mi, 0, "paper").tolist() == [0, 1]  # seed A masks its copy B


def test_multi_valued_weights_and_empty_rows() -> None:
    # item 0: A=a1, M=[m1, m2]; item 1: A=a2, M=[m1]; item 2: A=a2, M=[] (counts as <unk>).
    table = FeatureTable(
        (
            CategoricalField.from_single("A", ["a1", "a2", "a2"]),
            CategoricalField.from_multi("M", [["m1", "m2"], ["m1"], []]),
        )
    )
    # joint / 3 items: (a1,m1) 1/6, (a1,m2) 1/6, (a2,m1) 1/3, (a2,unk) 1/3
    # P(a1) = 1/3, P(a2) = 2/3; P(m1) = 1/2, P(m2) = 1/6, P(unk) = 1/3
    expected = (
        (1 / 6) * math.log((1 / 6) / ((1 / 3) * (1 / 2)))
        + (1 / 6) * math.log((1 / 6) / ((1 / 3) * (1 / 6)))
        + (1 / 3) * math.log((1 / 3) / ((2 / 3) * (1 / 2)))
        + (1 / 3) * math.log((1 / 3) / ((2 / 3) * (1 / 3)))
    )
    mi = mutual_information_table(table)
    np.testing.assert_allclose(mi[0, 1], expected)
    np.testing.assert_allclose(mi[1, 0], expected)


def test_random_catalogue_is_fast_and_ordered() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    a = rng.integers(0, 50, n)
    noise = rng.integers(0, 50, n)
    tags = [[f"t{v}" for v in rng.integers(0, 200, rng.integers(0, 6))] for _ in range(n)]
    table = FeatureTable(
        (
            CategoricalField.from_single("id", [f"i{i}" for i in range(n)]),
            CategoricalField.from_single("A", [f"a{v}" for v in a]),
            CategoricalField.from_single("B", [f"a{v}" for v in a]),
            CategoricalField.from_single("C", [f"c{v}" for v in noise]),
            CategoricalField.from_multi("tags", tags),
        )
    )
    start = time.perf_counter()
    mi = mutual_information_table(table)
    assert time.perf_counter() - start < 5.0
    assert mi[1, 2] > 10 * mi[1, 3]  # the copy is far more informative than the noise
    # the copy's MI is A's entropy
    p = np.bincount(a) / n
    p = p[p > 0]
    np.testing.assert_allclose(mi[1, 2], -(p * np.log(p)).sum())
