"""bench/train_speed.py and bench/train_loops.py: the bare reference loop trains the trainer's own
model, and the page states targets met or not from the ratios (hand-built documents, no timings
asserted)."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "bench"))

from train_loops import bare_loop  # noqa: E402
from train_speed import IDS_ONLY, REFERENCE, render  # noqa: E402

from training.config import load_config  # noqa: E402
from training.protocol.prepared import prepare  # noqa: E402


def _doc(ratios: dict[str, float], peer: str | None) -> dict[str, object]:
    eps = {k: {"median": 1000.0 * r, "samples": [1000.0 * r]} for k, r in ratios.items()}
    return {
        "machine": {
            "cpus": 2,
            "platform": "linux",
            "processor": "Test CPU",
            "torch": "2",
            "threads": 1,
            "loadavg_start": [1.0, 1.0, 1.0],
            "loadavg_end": [2.0, 2.0, 2.0],
        },
        "batch_size": 1024,
        "ssl_batch_size": 512,
        "steps_per_repeat": 10,
        "repeats": 3,
        "reference": REFERENCE,
        "peer": {"torch_rechub": peer},
        "examples_per_second": eps,
        "ratio_vs_reference": ratios,
        "targets": [
            {"row": "two_tower", "at_least": 0.8, "ratio": ratios["two_tower"], "met": False},
            {"row": "ssl_cfm", "at_least": 0.5, "ratio": ratios["ssl_cfm"], "met": True},
        ],
        "command": "python bench/train_speed.py",
    }


def test_page_states_each_target_and_a_missing_peer() -> None:
    ratios = {REFERENCE: 1.0, IDS_ONLY: 2.0, "two_tower": 0.7, "ssl_cfm": 0.6}
    page = render(_doc(ratios, None))
    assert "| two_tower ≥ 0.80× the reference | 0.70× | not met |" in page
    assert "| ssl_cfm ≥ 0.50× the reference | 0.60× | met |" in page
    assert "torch-rechub DSSM | not set up" in page
    # the second ratio column is against the ids-only loop: 0.7 / 2.0
    assert "| two_tower | 700 | 700 | 0.70 | 0.35 |" in page
    assert "Test CPU" in page and "1.0 / 1.0 / 1.0" in page


def test_bare_loop_trains_the_configured_model() -> None:
    cfg = load_config(ROOT / "configs" / "tiny.toml", ["train.batch_size=64", "train.lr=0.01"])
    p = prepare(cfg.data)
    torch.set_num_threads(1)
    for ids_only in (False, True):
        res = bare_loop(cfg, p, steps=12, ids_only=ids_only)
        assert len(res.losses) == 12 and res.examples_per_second > 0
        # it learns: the last steps' loss is below the first steps'
        assert sum(res.losses[-3:]) < sum(res.losses[:3])
