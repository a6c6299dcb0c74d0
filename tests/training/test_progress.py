"""Progress output: a live bar only on a terminal, else one line per epoch (issue 13 item 2)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from training.trainers.progress import EpochProgress

ROOT = Path(__file__).resolve().parents[2]


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def _run(progress: EpochProgress, epochs: int) -> None:
    for epoch in range(epochs):
        for _ in progress.batches(range(4), epoch):
            progress.step(loss=2.0, examples=100, seconds=0.01)
        progress.end_epoch(epoch, "NDCG@50", 0.25)


def test_not_a_terminal_one_line_per_epoch() -> None:
    out = io.StringIO()
    _run(EpochProgress("epoch", 3, enabled=True, stream=out), 3)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue()
    assert len(lines) == 3
    assert lines[0].startswith("epoch 1/3  loss 2.0000  10,000 ex/s  valid NDCG@50 0.2500  ~")
    assert lines[2].endswith("~0:00:00 left")


def test_terminal_gets_a_live_bar_and_the_epoch_lines() -> None:
    out = _Tty()
    _run(EpochProgress("few-shot", 2, enabled=True, stream=out), 2)
    text = out.getvalue()
    assert "\r" in text  # tqdm redraws
    assert "few-shot 2/2  loss 2.0000" in text


def test_disabled_writes_nothing() -> None:
    out = _Tty()
    _run(EpochProgress("epoch", 2, enabled=False, stream=out), 2)
    assert out.getvalue() == ""


def test_training_into_a_pipe_writes_readable_lines(tmp_path: Path) -> None:
    """What the compose trainer and `make demo > log` see: stderr is a pipe."""
    sets = [
        "data.synthetic.preset=tiny",
        "model.kind=mirec",
        "model.dim=8",
        "model.hidden=[8]",
        "model.field_dim=4",
        "mirec.many_shot_epochs=2",
        "mirec.few_shot_epochs=2",
        "train.epochs=2",
        "train.patience=5",
    ]
    cmd = [sys.executable, "-m", "training", "train", "--out", str(tmp_path / "b")]
    cmd += [x for s in sets for x in ("--set", s)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-2000:]
    assert "\r" not in r.stderr
    human = [ln for ln in r.stderr.splitlines() if not ln.startswith("{")]
    assert [ln.split("  ")[0] for ln in human] == [
        "many-shot 1/2",
        "many-shot 2/2",
        "few-shot 1/2",
        "few-shot 2/2",
    ]
