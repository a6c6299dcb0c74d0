from __future__ import annotations

import math

import pytest

from service.ztest import two_proportion_ztest


def test_matches_a_hand_computed_value() -> None:
    # a: 100/1000, b: 130/1000 -> pooled .115, se = sqrt(.115*.885*.002) = .014267
    r = two_proportion_ztest(100, 1000, 130, 1000)
    assert r.diff == pytest.approx(0.03)
    assert r.z == pytest.approx(0.03 / math.sqrt(0.115 * 0.885 * 0.002), rel=1e-9)
    assert r.p_value == pytest.approx(0.03551, abs=2e-4)  # two-sided, z = 2.1027


def test_symmetric_and_equal_rates_give_p_one() -> None:
    r1 = two_proportion_ztest(50, 500, 80, 500)
    r2 = two_proportion_ztest(80, 500, 50, 500)
    assert r1.z == pytest.approx(-r2.z)
    assert r1.p_value == pytest.approx(r2.p_value)
    same = two_proportion_ztest(10, 100, 20, 200)
    assert same.z == pytest.approx(0.0) and same.p_value == pytest.approx(1.0)


def test_undefined_cases_are_none_not_nan() -> None:
    assert two_proportion_ztest(0, 0, 5, 10).z is None
    zero = two_proportion_ztest(0, 10, 0, 10)
    assert zero.diff == 0 and zero.z is None and zero.p_value is None


def test_impossible_counts_refused() -> None:
    with pytest.raises(ValueError):
        two_proportion_ztest(11, 10, 1, 10)
