"""DDP under torchrun (gloo, 2 processes) matches a single-process run to float tolerance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from safetensors.torch import load_file

from common.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--config",
    str(ROOT / "configs" / "tiny.toml"),
    "--set",
    "model.kind=ssl",
    "--set",
    "ssl.mode=rfm",
    "--set",
    "ssl.batch_size=32",
    "--set",
    "train.epochs=2",
    "--set",
    "train.patience=5",
]


def _train(out: Path, nproc: int) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    if nproc == 1:
        cmd = [sys.executable, "-m", "training", "train", *ARGS, "--out", str(out)]
    else:
        cmd = [
            sys.executable,
            "-m",
            "torch.distributed.run",
            f"--nproc_per_node={nproc}",
            f"--master_port={free_port()}",  # a fixed port collides with parallel runs
            "-m",
            "training",
            "train",
            *ARGS,
            "--out",
            str(out),
        ]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, r.stderr[-3000:]


@pytest.mark.slow
def test_two_process_ddp_matches_single_process(tmp_path: Path) -> None:
    _train(tmp_path / "single", 1)
    _train(tmp_path / "ddp", 2)
    a = load_file(str(tmp_path / "single" / "weights.safetensors"))
    b = load_file(str(tmp_path / "ddp" / "weights.safetensors"))
    assert a.keys() == b.keys()
    for k in a:
        diff = (a[k] - b[k]).abs().max().item()
        assert diff < 1e-4, f"{k}: max abs diff {diff}"
