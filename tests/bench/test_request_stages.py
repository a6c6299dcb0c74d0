"""bench/request_stages.stage_table: medians per stage, their sum and the framework remainder
(hand-computed; no timings)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

from request_stages import STAGES, stage_table  # noqa: E402


def _pass(scale: float) -> dict[str, float]:
    # parse 1, bucket 2, ..., recording 7 (times scale): sum 28 * scale
    return {s: (i + 1) * scale for i, s in enumerate(STAGES)}


def test_medians_sum_and_remainder() -> None:
    table = stage_table([_pass(1.0), _pass(3.0), _pass(2.0)], total_us=100.0)
    assert table["stages_us"] == {s: (i + 1) * 2.0 for i, s in enumerate(STAGES)}
    assert table["sum_us"] == pytest.approx(56.0)
    assert table["framework_us"] == pytest.approx(44.0)
    assert table["sum_share"] == pytest.approx(0.56)


def test_median_per_stage_not_per_pass() -> None:
    # The median is taken stage by stage: no single pass holds both medians.
    a = {**_pass(1.0), "parse": 10.0, "search": 1.0}
    b = {**_pass(1.0), "parse": 1.0, "search": 10.0}
    c = {**_pass(1.0), "parse": 5.0, "search": 5.0}
    table = stage_table([a, b, c], total_us=50.0)
    assert table["stages_us"]["parse"] == 5.0
    assert table["stages_us"]["search"] == 5.0


def test_no_passes_refused() -> None:
    with pytest.raises(ValueError, match="no stage passes"):
        stage_table([], total_us=1.0)
