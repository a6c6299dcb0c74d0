"""Training throughput on ML-1M: examples/second of the trainers' steps against plain loops and a
peer, measured interleaved in one run, medians over repeats.

Rows: ``bare loop (same towers)``, the reference (bench/train_loops.py: the trainer's model and
loss in a dozen-line loop); the same bare loop with id fields only (what the 9 feature fields
cost); ``two_tower`` and ``ssl_cfm``, the real trainer (``train_two_tower``: batch assembly, SSL
views, data-parallel context, per-step bookkeeping); torch-rechub's DSSM as shipped and its model
in a plain loop (bench/peers/rechub_dssm.py, in its own virtual environment, made by
``bench/peers/setup.sh``; the rows say "not set up" when it is missing). Validation is excluded
everywhere. Writes docs/benchmarks/training.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from provenance import provenance
from train_loops import bare_loop

from training.config import RunConfig, load_config
from training.protocol.prepared import Prepared, prepare
from training.trainers.distributed import DistContext
from training.trainers.two_tower import train_two_tower

ROOT = Path(__file__).resolve().parents[1]


CONFIG = ROOT / "configs" / "ml1m_ssl.toml"
PEER_PYTHON = ROOT / ".venv-peers" / "rechub" / "bin" / "python"
REFERENCE = "bare loop (same towers)"
IDS_ONLY = "bare loop, id fields only"
TWO_TOWER = ["model.kind='two_tower'", "ssl.mode='none'"]
# Targets (issue 14): the trainer's step against the bare loop with the same towers.
TARGETS = {"two_tower": 0.8, "ssl_cfm": 0.5}


def run_config(data_dir: str, threads: int, overrides: list[str]) -> RunConfig:
    return load_config(
        CONFIG,
        [
            f"data.data_dir='{data_dir}'",
            "train.epochs=1",
            "train.progress=false",
            f"train.threads={threads}",
            *overrides,
        ],
    )


def trainer_speed(cfg: RunConfig, p: Prepared, steps: int) -> float:
    """Examples/second of ``steps`` trainer steps (one truncated epoch; validation excluded)."""
    n = steps * cfg.train.batch_size
    users, items = p.split.train_users[:n], p.split.train_items[:n]
    return train_two_tower(cfg, p, DistContext(), interactions=(users, items)).examples_per_second


def peer_speeds(data_dir: str, steps: int, batch: int, threads: int) -> dict[str, Any] | None:
    """torch-rechub's two rows from its own interpreter, or None when it is not set up."""
    if not PEER_PYTHON.exists():
        return None
    cmd = [
        str(PEER_PYTHON),
        str(ROOT / "bench" / "peers" / "rechub_dssm.py"),
        f"--data-dir={data_dir}",
        f"--steps={steps}",
        f"--batch={batch}",
        f"--threads={threads}",
    ]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout
    doc: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return doc


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", default=str(ROOT.parent / "shared" / "data" / "ml-1m"))
    ap.add_argument("--steps", type=int, default=150)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--threads", type=int, default=1, help="torch threads per measurement (trainers' default)"
    )
    ap.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "training"))
    ap.add_argument(
        "--render-only",
        action="store_true",
        help="rewrite <out>.md from <out>.json, measure nothing",
    )
    args = ap.parse_args()
    out = Path(args.out)
    if args.render_only:
        out.with_suffix(".md").write_text(render(json.loads(out.with_suffix(".json").read_text())))
        return
    torch.set_num_threads(args.threads)
    base_cfg = run_config(args.data_dir, args.threads, TWO_TOWER)
    p = prepare(base_cfg.data)
    ssl_cfg = run_config(args.data_dir, args.threads, ["ssl.mode='cfm'"])
    ours: dict[str, Callable[[], float]] = {
        REFERENCE: lambda: bare_loop(base_cfg, p, args.steps).examples_per_second,
        IDS_ONLY: lambda: bare_loop(base_cfg, p, args.steps, ids_only=True).examples_per_second,
        "two_tower": lambda: trainer_speed(base_cfg, p, args.steps),
        "ssl_cfm": lambda: trainer_speed(ssl_cfg, p, args.steps),
    }
    for fn in ours.values():  # warm-up, unmeasured: allocator, thread pool, first-call costs
        fn()
    samples: dict[str, list[float]] = {k: [] for k in ours}
    peer_version = None
    for _ in range(args.repeats):  # interleaved, so drift on a shared machine hits all alike
        for name, fn in ours.items():
            samples[name].append(fn())
        peer = peer_speeds(args.data_dir, args.steps, base_cfg.train.batch_size, args.threads)
        if peer is not None:
            peer_version = peer["version"]
            for key, label in (("as_shipped", "as shipped"), ("plain_loop", "plain loop")):
                samples.setdefault(f"torch-rechub DSSM, {label}", []).append(peer[key])
    med = {k: statistics.median(v) for k, v in samples.items()}
    base = med[REFERENCE]
    ratio = {k: med[k] / base for k in med}
    doc: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "processor": provenance()["machine"]["cpu_model"],
            "torch": torch.__version__,
            "threads": args.threads,
            "loadavg_start": os.getloadavg(),
        },
        "dataset": "ml-1m",
        "batch_size": base_cfg.train.batch_size,
        "ssl_batch_size": ssl_cfg.ssl.batch_size,
        "steps_per_repeat": args.steps,
        "repeats": args.repeats,
        "reference": REFERENCE,
        "peer": {"torch_rechub": peer_version},
        "examples_per_second": {k: {"median": med[k], "samples": samples[k]} for k in samples},
        "ratio_vs_reference": ratio,
        "targets": [
            {"row": k, "at_least": t, "ratio": ratio[k], "met": ratio[k] >= t}
            for k, t in TARGETS.items()
        ],
        "command": "make bench  (python bench/train_speed.py)",
    }
    doc["machine"]["loadavg_end"] = os.getloadavg()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    out.with_suffix(".md").write_text(render(doc))
    print(render(doc))


def _load(avg: list[float] | None) -> str:
    return " / ".join(f"{x:.1f}" for x in avg) if avg else "?"


def render(doc: dict[str, Any]) -> str:
    m = doc["machine"]
    peer = doc["peer"]["torch_rechub"]
    lines = [
        "# Training throughput (ML-1M)",
        "",
        f"_Generated by `{doc['command']}` from `training.json`; do not edit by hand._",
        "",
        f"Machine: **{m['processor']}**, {m['cpus']} CPUs, {m['platform']}, torch {m['torch']}, "
        f"{m['threads']} thread(s) per measurement. Batch {doc['batch_size']} (SSL item batch "
        f"{doc['ssl_batch_size']}), {doc['steps_per_repeat']} steps per repeat, median of "
        f"{doc['repeats']} interleaved repeats. Ratios are within this run; absolute figures do "
        "not carry over to another host or load.",
        "",
        f"1/5/15-minute load average {_load(m.get('loadavg_start'))} at the start, "
        f"{_load(m.get('loadavg_end'))} at the end, on {m['cpus']} CPUs.",
        "",
        f"| row | examples/s (median) | samples | vs {doc['reference']} | vs {IDS_ONLY} |",
        "| --- | ---: | --- | ---: | ---: |",
    ]
    eps = doc["examples_per_second"]
    for k, v in eps.items():
        s = ", ".join(f"{x:,.0f}" for x in v["samples"])
        ref, ids = doc["ratio_vs_reference"][k], v["median"] / eps[IDS_ONLY]["median"]
        lines.append(f"| {k} | {v['median']:,.0f} | {s} | {ref:.2f} | {ids:.2f} |")
    if peer is None:
        lines.append("| torch-rechub DSSM | not set up (`bench/peers/setup.sh`) | | |")
    lines += ["", "| target | measured | met |", "| --- | ---: | --- |"]
    for t in doc["targets"]:
        met = "met" if t["met"] else "not met"
        goal = f"{t['row']} ≥ {t['at_least']:.2f}× the reference"
        lines.append(f"| {goal} | {t['ratio']:.2f}× | {met} |")
    lines += [
        "",
        "Examples/second counts training interactions per second of step time (batch assembly, "
        "forward, loss, backward, Adam); validation is excluded. The reference is this project's "
        "model and loss in a plain loop (bench/train_loops.py); torch-rechub "
        f"{peer or '(not set up)'} runs in its own virtual environment "
        "(bench/peers/rechub_dssm.py: its DSSM with the same ML-1M fields, embedding dim 32 and "
        "MLP [256, 128, 64]; in-batch negatives). The targets are stated against the bare loop "
        "with the same towers (same model, features and loss): what the trainer's own machinery "
        "costs; the last column shows the cost of the 9 feature fields on top.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
