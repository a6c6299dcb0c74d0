"""``make bench`` (replicas): one service process against two replicas on one host and one Redis
(``python -m service.replicas P1 P2``), side by side in one run.

Both set-ups are started once (idle processes cost nothing) and loaded alternately, repeat by
repeat, so drift on a shared machine hits both alike: the single process at C connections; the two
replicas each at C/2 connections from their own load process at the same time (no balancer in
between: what is measured is the replicas' capacity, not a proxy's; the compose profile puts nginx
in front). Known users, k = 10, history excluded, Redis exposure store, as bench/serving.py.
Writes ``<out>.json`` and ``<out>.md`` (default docs/benchmarks/replicas).

    python bench/serving_replicas.py                 # ML-1M-shaped bundle, 3 x 8 s per set-up
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from provenance import provenance  # noqa: E402
from serving import (  # noqa: E402
    ML1M_TRAINED,
    K,
    add_load_options,
    delete_prefix,
    wait_ready,
    write_config,
)
from serving_bundles import synthetic_bundle  # noqa: E402
from serving_load import run_load  # noqa: E402

from common.ports import free_port  # noqa: E402
from models.bundle import load_bundle  # noqa: E402

# Target (issue 14): two replicas serve at least 1.6x one process's requests/s.
TARGET = 1.6


def default_bundle() -> tuple[Path, str]:
    """The trained ML-1M MIRec bundle when present, else a random-weight one of its shape (built
    once under artifacts/bench/), and which of the two it is."""
    if (ML1M_TRAINED / "manifest.json").exists():
        return ML1M_TRAINED, "trained ML-1M MIRec"
    bundle = synthetic_bundle(
        ROOT / "artifacts" / "bench" / "random-ml1m",
        n_users=6040,
        n_items=3706,
        history_per_user=166,
    )
    return bundle, "random-weight MIRec of ML-1M's shape (no trained bundle here)"


def start(
    cmd: list[str], cfg: Path, redis_url: str, port: int, log: Path
) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("ADMIN_TOKEN",)}
    env.update(LONGTAIL_CONFIG=str(cfg), HOST="127.0.0.1", PORT=str(port), REDIS_URL=redis_url)
    with log.open("wb") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


def load_together(
    ports: list[int], users: list[str], connections: int, seconds: float
) -> dict[str, Any]:
    """Every port loaded at once, ``connections`` split evenly; req/s summed, worst p99."""
    share = max(1, connections // len(ports))
    with ThreadPoolExecutor(len(ports)) as pool:
        runs = list(
            pool.map(lambda p: run_load(f"http://127.0.0.1:{p}", users, K, share, seconds), ports)
        )
    return {
        "rps": sum(r["rps"] for r in runs),
        "p99_ms": max(r["p99_ms"] for r in runs),
        "p50_ms": statistics.median(r["p50_ms"] for r in runs),
        "errors": sum(r["errors"] for r in runs),
        "requests": sum(r["requests"] for r in runs),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, default=None, help="default: the trained ML-1M MIRec")
    ap.add_argument("--connections", type=int, default=32)
    add_load_options(ap, ROOT / "docs" / "benchmarks" / "replicas")
    args = ap.parse_args()
    bundle, source = default_bundle() if args.bundle is None else (args.bundle, "given")
    users = list(load_bundle(bundle).user_ids[:1000])
    prefixes = {name: f"bench-{uuid.uuid4().hex[:8]}" for name in ("one", "two")}
    ports = {"one": [free_port()], "two": [free_port(), free_port()]}
    before = {**provenance(), "loadavg": os.getloadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        procs = {
            name: start(
                [sys.executable, "-m", "service"]
                if name == "one"
                else [sys.executable, "-m", "service.replicas", *map(str, ports[name])],
                write_config(work / f"{name}.toml", bundle, {"kind": "flat"}, prefixes[name], True),
                args.redis_url,
                ports[name][0],
                work / f"{name}.log",
            )
            for name in ("one", "two")
        }
        runs: dict[str, list[dict[str, Any]]] = {"one": [], "two": []}
        try:
            for name, proc in procs.items():
                for port in ports[name]:
                    wait_ready(f"http://127.0.0.1:{port}", proc, timeout_s=600)
                load_together(ports[name], users, args.connections, args.warmup)
            for _ in range(args.repeats):
                for name in ("one", "two"):
                    runs[name].append(
                        load_together(ports[name], users, args.connections, args.duration)
                    )
        finally:
            for proc in procs.values():
                proc.terminate()
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    proc.kill()
            for prefix in prefixes.values():
                delete_prefix(args.redis_url, prefix)
    med = {n: statistics.median(r["rps"] for r in rs) for n, rs in runs.items()}
    ratio = med["two"] / med["one"]
    doc = {
        "provenance": {"start": before, "end": {**provenance(), "loadavg": os.getloadavg()}},
        "bundle": str(bundle.relative_to(ROOT) if bundle.is_relative_to(ROOT) else bundle),
        "bundle_source": source,
        "connections": args.connections,
        "duration_s": args.duration,
        "repeats": args.repeats,
        "runs": runs,
        "median_rps": med,
        "ratio": ratio,
        "target": {"at_least": TARGET, "met": ratio >= TARGET},
        "command": "python bench/serving_replicas.py",
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(doc))
    print(render(doc))
    return 0


def render(doc: dict[str, Any]) -> str:
    p = doc["provenance"]["start"]
    m = p["machine"]
    load = ", ".join(f"{x:.1f}" for x in p["loadavg"])
    lines = [
        "# One process vs two replicas on one Redis",
        "",
        f"_Generated by `{doc['command']}` from `replicas.json`; do not edit by hand._",
        "",
        f"Host: **{m['cpu_model']}** ({m['cpus']} CPUs), 1/5/15-min load average at the start "
        f"{load}. Bundle: `{doc['bundle']}` ({doc['bundle_source']}), exact "
        f"index, Redis exposure store, k = {K}, known users, history excluded. "
        f"{doc['connections']} connections in all, {doc['duration_s']:g} s per measurement, "
        f"median of {doc['repeats']} alternating repeats; ratios are within this run.",
        "",
        "| set-up | req/s (median) | repeats (req/s) | p50 ms | p99 ms | errors |",
        "| --- | ---: | --- | ---: | ---: | ---: |",
    ]
    for name, label in (("one", "1 process"), ("two", "2 replicas")):
        rs = doc["runs"][name]
        reps = ", ".join(f"{r['rps']:,.0f}" for r in rs)
        p50 = statistics.median(r["p50_ms"] for r in rs)
        p99 = statistics.median(r["p99_ms"] for r in rs)
        errors = sum(r["errors"] for r in rs)
        lines.append(
            f"| {label} | {doc['median_rps'][name]:,.0f} | {reps} | {p50:.2f} | {p99:.2f} | "
            f"{errors} |"
        )
    t = doc["target"]
    lines += [
        "",
        f"2 replicas / 1 process: **{doc['ratio']:.2f}x** (target ≥ {t['at_least']}x: "
        f"{'met' if t['met'] else 'not met'}). The load generator runs on the same cores as the "
        "servers, so on a 2-core host the two replicas and their load share the machine; and "
        "where other work loads the host (the load average above), two processes also win a "
        "larger share of the CPU from it than one, which inflates the ratio: read it on an "
        "idle host.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
