"""bench/index_sweep.py: which setting it chooses from hand-built rows (no index, no timings), and
an end-to-end sweep over a tiny bundle's candidates."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import index_sweep  # noqa: E402

TARGETS = {"recall": 0.95, "p50_us": 2000.0, "memory_mb": 3072.0}


def _row(
    name: str, p50: float, head: float, tail: float | None, rss: float = 1000.0
) -> dict[str, Any]:
    truth = 0 if tail is None else 5000
    recall = {"lambda_p": None, "all": head, "head": head, "tail": tail, "tail_truth": truth}
    return {
        "candidate": name,
        "search": 1,
        "rss_mb": rss,
        "recall": [recall],
        "k10": {"p50_us": p50},
    }


def test_the_cheapest_setting_meeting_every_target_is_chosen() -> None:
    rows = [
        _row("fast-but-loses-tail", 100.0, 0.99, 0.90),
        _row("no-tail-truth", 150.0, 0.99, None),  # an unjudged tail recall is not met
        _row("too-big", 200.0, 0.99, 0.99, rss=4000.0),
        _row("slow", 900.0, 0.97, 0.96),
        _row("chosen", 400.0, 0.96, 0.95),
        _row("too-slow", 2500.0, 1.0, 1.0),
    ]
    doc = {"targets": TARGETS, "rows": rows}
    assert index_sweep.choose(doc) == {"candidate": "chosen", "search": 1, "p50_us": 400.0}
    assert index_sweep.choose({"targets": TARGETS, "rows": rows[:3]}) is None


def test_the_tail_only_search_is_judged_only_where_no_served_list_holds_a_tail_item() -> None:
    def rec(label: str, tail: float | None, truth: int = 5000) -> dict[str, Any]:
        return {"set": label, "all": 0.99, "head": 0.99, "tail": tail, "tail_truth": truth}

    tail_only = rec(index_sweep.TAIL_ONLY, 0.5)
    row = {"recall": [rec("served", None), rec("λ_p 0", 0.97), tail_only]}
    assert index_sweep._meets_recall(row, 0.95)  # served tail judged: the filter is a diagnostic
    row = {"recall": [rec("served", None), rec("λ_p 0", 0.90), tail_only]}
    assert not index_sweep._meets_recall(row, 0.95)
    row = {"recall": [rec("served", None), tail_only]}  # no served tail: the filter stands in
    assert not index_sweep._meets_recall(row, 0.95)
    row = {"recall": [rec("served", None), rec(index_sweep.TAIL_ONLY, 0.96)]}
    assert index_sweep._meets_recall(row, 0.95)
    # A served tail with too little truth to judge: the filter stands in.
    few = rec("λ_p 0", 1.0, truth=index_sweep.MIN_TAIL_TRUTH - 1)
    assert not index_sweep._meets_recall({"recall": [few, tail_only]}, 0.95)


def test_a_sweep_over_a_tiny_bundle_writes_rows_and_a_page(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "service"))
    from svc_helpers import make_bundle

    bundle = make_bundle(tmp_path / "b", "two_tower", n_users=80, n_items=400)
    args = index_sweep.build_parser().parse_args(
        [
            "--bundle",
            str(bundle),
            "--candidate",
            "ivf=kind:ivf,ivf_nlist:8",
            "--candidate",
            "sq8=kind:ivf,ivf_nlist:8,ivf_codec:sq8",
            "--nprobe",
            "8",
            "--queries",
            "40",
            "--latency-queries",
            "10",
            "--out",
            str(tmp_path / "sweep"),
        ]
    )
    doc = index_sweep.sweep(args)
    assert [r["candidate"] for r in doc["rows"]] == ["ivf", "sq8"]
    for r in doc["rows"]:  # nprobe = nlist: every list is scanned, so the search is exact
        assert r["recall"][0]["all"] == 1.0 and r["index_mb"] > 0
    page = index_sweep.render(doc)
    assert "| ivf | 8 |" in page and "Targets: recall@50" in page
    # The page again from the JSON alone, its choice by the current rule (nothing measured).
    src = tmp_path / "measured.json"
    src.write_text(json.dumps({**doc, "choice": {"candidate": "stale"}}))
    monkeypatch.setattr(
        sys, "argv", ["index_sweep", "--render-from", str(src), "--out", str(tmp_path / "again")]
    )
    assert index_sweep.main() == 0
    again = json.loads((tmp_path / "again.json").read_text())
    assert again["choice"] == index_sweep.choose(doc) and again["rows"] == doc["rows"]
    assert (tmp_path / "again.md").read_text() == index_sweep.render(again)
