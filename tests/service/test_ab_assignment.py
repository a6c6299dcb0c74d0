from __future__ import annotations

import subprocess
import sys

import pytest

from service.ab import BucketAssigner, UnknownBucket


def test_same_user_same_bucket_and_split_matches_weights() -> None:
    a = BucketAssigner({"control": 0.7, "treatment": 0.2, "other": 0.1}, salt="s")
    users = [f"user-{i}" for i in range(20_000)]
    first = [a.assign(u) for u in users]
    assert first == [a.assign(u) for u in users]
    shares = {b: first.count(b) / len(users) for b in a.names}
    # Binomial sd at n=20000 is ≤ 0.0035: 0.015 is > 4 sd, yet catches any real skew.
    assert shares["control"] == pytest.approx(0.7, abs=0.015)
    assert shares["treatment"] == pytest.approx(0.2, abs=0.015)
    assert shares["other"] == pytest.approx(0.1, abs=0.015)


def test_assignment_is_stable_across_processes() -> None:
    """Python's hash() is randomised per process; the assignment must not depend on it."""
    code = (
        "from service.ab import BucketAssigner;"
        "a = BucketAssigner({'control': 1, 'treatment': 1}, salt='s');"
        "print(','.join(a.assign(f'u{i}') for i in range(50)))"
    )
    outs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONHASHSEED": str(seed)},
        ).stdout
        for seed in (1, 2)
    }
    local = BucketAssigner({"control": 1, "treatment": 1}, salt="s")
    assert outs == {",".join(local.assign(f"u{i}") for i in range(50)) + "\n"}


def test_salt_reshuffles_users() -> None:
    a = BucketAssigner({"control": 1, "treatment": 1}, salt="one")
    b = BucketAssigner({"control": 1, "treatment": 1}, salt="two")
    users = [f"u{i}" for i in range(2000)]
    same = sum(a.assign(u) == b.assign(u) for u in users) / len(users)
    assert 0.4 < same < 0.6  # independent halves agree about half of the time


def test_forced_bucket_and_unknown_bucket() -> None:
    a = BucketAssigner({"control": 1, "treatment": 1}, salt="s")
    assert a.resolve("anyone", "treatment") == "treatment"
    with pytest.raises(UnknownBucket) as e:
        a.resolve("anyone", "nope")
    assert e.value.valid == ("control", "treatment")
    assert "control, treatment" in str(e.value)


def test_single_bucket_takes_everyone_and_bad_weights_refused() -> None:
    a = BucketAssigner({"control": 3.0}, salt="s")
    assert {a.assign(f"u{i}") for i in range(100)} == {"control"}
    with pytest.raises(ValueError):
        BucketAssigner({"control": 1.0, "x": 0.0}, salt="s")
