"""``make bench``: every benchmark in turn, each writing docs/benchmarks/<name>.{json,md}."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The serving benchmark serves trained bundles (ML-1M when its data is here, synthetic 100k;
# trained once, then reused); the index sweep and the in-process request cost use them afterwards.
# The 1M sweep trains its bundle once (configs/large_bundle.toml, 23 min on 2 cores with
# validation on 2,000 sampled users; 60 min when every validation pass ranked all 50,000) and
# compares the approximate indexes the settings offer; its choice is the large-catalogue default
# (service/settings.py: IndexOptions).
SWEEP_1M = [
    "--train-set",
    "1m",
    "--candidate",
    "ivf=kind:ivf,ivf_codec:flat",
    "--candidate",
    "ivf-hnsw-quantizer=kind:ivf,ivf_quantizer:hnsw,ivf_nlist:8192,ivf_codec:flat",
    "--candidate",
    "ivf-sq8-rerank=kind:ivf,ivf_codec:sq8,ivf_rerank:4",
    "--candidate",
    "hnsw=kind:hnsw,hnsw_m:32,hnsw_ef_construction:100",
    "--candidate",
    "hnsw-tail-apart=kind:hnsw,hnsw_m:32,hnsw_ef_construction:100,tail_index:apart",
    "--candidate",
    "ivf-sq8-tail-apart=kind:ivf,ivf_codec:sq8,ivf_rerank:4,tail_index:apart",
    "--nprobe",
    "32,64,128,256,512",
    "--ef",
    "64,128,256,512",
    "--out",
    "docs/benchmarks/index_sweep_1m",
]
BENCHES: list[tuple[str, list[str]]] = [
    ("train_speed.py", []),
    ("serving.py", ["--train-bundles"]),
    ("serving_replicas.py", []),
    ("serving_peers.py", []),
    (
        "index_sweep.py",
        [
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
    ),
    ("index_sweep.py", SWEEP_1M),
    (
        "request_cost.py",
        [
            "--bundle",
            "artifacts/bench/trained-ml1m",
            "--bundle",
            "artifacts/bench/trained-100k:hnsw",
            "--out",
            "docs/benchmarks/request_cost",
        ],
    ),
]


def main() -> int:
    failed = []
    for name, extra in BENCHES:
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
