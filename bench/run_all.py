"""``make bench``: every benchmark in turn, each writing docs/benchmarks/<name>.{json,md}."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The serving benchmark serves trained bundles (ML-1M when its data is here, synthetic 100k;
# trained once, then reused); the index sweep and the in-process request cost use them afterwards.
BENCHES = {
    "train_speed.py": [],
    "serving.py": ["--train-bundles"],
    "serving_replicas.py": [],
    "serving_peers.py": [],
    "index_sweep.py": [
        "--bundle",
        "artifacts/bench/trained-100k",
        "--m",
        "16,32",
        "--ef",
        "64,128,192,224,256,384",
        "--queries",
        "5000",
        "--latency-queries",
        "1000",
        "--out",
        "docs/benchmarks/index_sweep_100k",
    ],
    "request_cost.py": [
        "--bundle",
        "artifacts/bench/trained-ml1m",
        "--bundle",
        "artifacts/bench/trained-100k:hnsw",
        "--out",
        "docs/benchmarks/request_cost",
    ],
}


def main() -> int:
    failed = []
    for name, extra in BENCHES.items():
        path = ROOT / "bench" / name
        if not path.exists():
            print(f"skip {name}: not present")
            continue
        print(f"== {name}", flush=True)
        if subprocess.run([sys.executable, str(path), *extra], cwd=ROOT).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
