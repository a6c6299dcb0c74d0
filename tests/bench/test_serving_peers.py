"""bench/serving_peers.py and bench/serving_replicas.py pages: what they say from hand-built
documents (no servers, no timings)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import serving_peers  # noqa: E402
import serving_replicas  # noqa: E402

MACHINE = {"cpu_model": "Test CPU", "cpus": 2}


def _run(rps: float, p50: float = 1.0, p99: float = 2.0) -> dict[str, Any]:
    return {"rps": rps, "p50_ms": p50, "p99_ms": p99, "errors": 0, "requests": int(rps)}


def test_peers_page_says_what_was_not_measured() -> None:
    doc = {
        "provenance": {"machine": MACHINE, "loadavg_start": [1, 1, 1], "loadavg_end": [1, 1, 1]},
        "command": "python bench/serving_peers.py",
        "skipped": ["wrk is not installed"],
    }
    assert "Not measured: wrk is not installed." in serving_peers.render(doc)


def test_peers_page_ratio_and_whether_ahead() -> None:
    med = {
        "ours": {"c1": _run(1200.0), "c32": _run(3000.0)},
        "cornac": {"c1": _run(1000.0), "c32": _run(3300.0)},
    }
    doc = {
        "provenance": {"machine": MACHINE, "loadavg_start": [1, 1, 1], "loadavg_end": [2, 2, 2]},
        "command": "python bench/serving_peers.py",
        "bundle": "b",
        "bundle_source": "random",
        "peer": {"server": "gunicorn -w 1 (sync)"},
        "duration_s": 8.0,
        "repeats": 3,
        "median": med,
        "peak_rss_mb": {"ours": 350.0, "cornac": None},
        "errors": {"ours": 0, "cornac": 4},
        "ratio_rps": {"c1": 1.2, "c32": 3000.0 / 3300.0},
    }
    page = serving_peers.render(doc)
    assert "**1.20x** at 1 connection, **0.91x** at 32 (not ahead at both)" in page
    assert "| Cornac 3 (gunicorn, 1 worker) | 1,000 |" in page and "| ? | 4 |" in page


def test_replicas_page_target() -> None:
    runs = {"one": [_run(1000.0), _run(1100.0)], "two": [_run(1500.0), _run(1700.0)]}
    doc = {
        "provenance": {"start": {"machine": MACHINE, "loadavg": [0.5, 0.5, 0.5]}},
        "command": "python bench/serving_replicas.py",
        "bundle": "b",
        "bundle_source": "random",
        "connections": 32,
        "duration_s": 8.0,
        "repeats": 2,
        "runs": runs,
        "median_rps": {"one": 1050.0, "two": 1600.0},
        "ratio": 1600.0 / 1050.0,
        "target": {"at_least": 1.6, "met": False},
    }
    page = serving_replicas.render(doc)
    assert "**1.52x** (target ≥ 1.6x: not met)" in page
    assert "| 2 replicas | 1,600 | 1,500, 1,700 |" in page
