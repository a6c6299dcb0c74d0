"""Approximate-index settings against recall: which HNSW ``M`` / ``efSearch`` (or IVF ``nprobe``)
reaches a recall@50 target on head **and** tail items, and what one search then costs.

For a bundle: build each index once per build parameter (HNSW ``M``, IVF ``nlist``), then for each
search parameter measure, on the same known-user queries at the bundle's λ_p (the served queries),
recall@50 against exact inner-product search on all / head / tail items (``service/recall.py``) and
the latency of single searches (k = 10 and k = 50, one thread, as the service calls FAISS).
Writes ``<out>.json`` and ``<out>.md``; the serving benchmark's index settings come from here.

    python bench/index_sweep.py --bundle artifacts/bench/trained-100k --kind hnsw \
        --out docs/benchmarks/index_sweep_100k
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import faiss
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from provenance import provenance  # noqa: E402
from serving import recall_lambdas  # noqa: E402

from service.index import build_index  # noqa: E402
from service.recall import exact_top_k, recall_against_exact  # noqa: E402
from service.serving_bundle import load_serving_bundle  # noqa: E402
from service.settings import IndexOptions  # noqa: E402


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x]


def _latency_us(index: Any, queries: np.ndarray, k: int) -> dict[str, float]:
    faiss.omp_set_num_threads(1)
    times = np.empty(len(queries))
    for j, q in enumerate(queries):
        t = time.perf_counter()
        index.search(q, k)
        times[j] = time.perf_counter() - t
    us = times * 1e6
    return {"p50_us": float(np.percentile(us, 50)), "p99_us": float(np.percentile(us, 99))}


def sweep(args: argparse.Namespace) -> dict[str, Any]:
    threads = os.cpu_count() or 1
    sb = load_serving_bundle(
        args.bundle, IndexOptions(kind="flat"), precompute_users_max=10**7, threads=threads
    )
    bundle = sb.bundle
    rng = np.random.default_rng(args.seed)
    n_users = len(bundle.user_ids)
    picks = rng.choice(n_users, size=min(args.queries, n_users), replace=False)
    sets = []
    for lam in recall_lambdas(bundle.lambda_p):
        q = np.stack([sb.known_query(int(u), lam) for u in picks]).astype(np.float32)
        sets.append((lam, q, exact_top_k(bundle.embeddings, q, args.k, threads)))
    timed = sets[0][1][: args.latency_queries]
    flat = _latency_us(sb.index, timed, 10)
    rows: list[dict[str, Any]] = []
    builds = _ints(args.m) if args.kind == "hnsw" else _ints(args.nlist)
    searches = _ints(args.ef) if args.kind == "hnsw" else _ints(args.nprobe)
    field = "hnsw_ef_search" if args.kind == "hnsw" else "ivf_nprobe"
    for b in builds:
        opts = (
            IndexOptions(kind="hnsw", hnsw_m=b, hnsw_ef_construction=args.ef_construction)
            if args.kind == "hnsw"
            else IndexOptions(kind="ivf", ivf_nlist=b)
        )
        t = time.perf_counter()
        index = build_index(bundle.embeddings, opts, threads=threads)
        build_s = time.perf_counter() - t
        for s in searches:
            index.options = opts.model_copy(update={field: s})  # one search parameter changed
            recall = []
            for lam, q, exact in sets:
                _, approx = index.search_batch(q, args.k)
                all_, head, tail, head_truth, tail_truth = recall_against_exact(
                    exact, approx, bundle.is_tail
                )
                recall.append(
                    {
                        "lambda_p": lam,
                        "all": all_,
                        "head": head,
                        "tail": tail,
                        "head_truth": head_truth,
                        "tail_truth": tail_truth,
                    }
                )
            rows.append(
                {
                    "build": b,
                    "search": s,
                    "build_s": build_s,
                    "recall": recall,
                    "k10": _latency_us(index, timed, 10),
                    f"k{args.k}": _latency_us(index, timed, args.k),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return {
        **provenance(),
        "bundle": str(args.bundle),
        "bundle_dataset": bundle.manifest.get("dataset"),
        "n_items": bundle.n_items,
        "index_dim": int(bundle.embeddings.shape[1]),
        "lambda_p": bundle.lambda_p,
        "kind": args.kind,
        "build_param": "M" if args.kind == "hnsw" else "nlist",
        "search_param": "efSearch" if args.kind == "hnsw" else "nprobe",
        "k": args.k,
        "n_queries": len(picks),
        "flat_k10": flat,
        "rows": rows,
    }


def render(doc: dict[str, Any]) -> str:
    k = doc["k"]
    bp, sp = doc["build_param"], doc["search_param"]
    lines = [
        f"# Index sweep: {doc['kind'].upper()} on {doc['n_items']:,} items",
        "",
        f"Generated by `{doc['command']}` at {doc['created_at']} (git {doc['git_commit']}). "
        f"Machine: {doc['machine']['cpus']} CPUs, Python {doc['machine']['python']}, "
        f"faiss {doc['machine']['faiss']}.",
        "",
        f"Bundle `{doc['bundle']}` ({doc['bundle_dataset']}), index_dim {doc['index_dim']}, "
        f"λ_p {doc['lambda_p']}; {doc['n_queries']:,} known-user queries at the bundle's λ_p "
        f"and at λ_p = 0. Recall@{k} against exact inner-product search (tail truth: tail "
        f"entries in the exact top-{k} lists); latency of single searches at the bundle's λ_p on "
        f"one thread. Exact search (IndexFlatIP), k = 10: p50 "
        f"{doc['flat_k10']['p50_us']:,.0f} µs.",
        "",
        f"| {bp} | {sp} | build s | λ_p | recall@{k} all | head | tail | tail truth "
        f"| p50 µs k=10 | p99 µs k=10 | p50 µs k={k} |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        for j, rec in enumerate(r["recall"]):
            lam = "–" if rec["lambda_p"] is None else f"{rec['lambda_p']:g}"
            lat = (
                f"{r['k10']['p50_us']:,.0f} | {r['k10']['p99_us']:,.0f} | "
                f"{r[f'k{k}']['p50_us']:,.0f}"
                if j == 0
                else "〃 | 〃 | 〃"
            )
            lines.append(
                f"| {r['build']} | {r['search']} | {r['build_s']:.1f} | {lam} "
                f"| {rec['all']:.3f} | {rec['head']:.3f} | "
                f"{'–' if rec['tail'] is None else format(rec['tail'], '.3f')} "
                f"| {rec['tail_truth']:,} | {lat} |"
            )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bundle", type=Path, required=True)
    ap.add_argument("--kind", choices=["hnsw", "ivf"], default="hnsw")
    ap.add_argument("--m", default="16,32", help="HNSW M values")
    ap.add_argument("--ef", default="32,64,96,128,192,256", help="HNSW efSearch values")
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--nlist", default="4000", help="IVF nlist values")
    ap.add_argument("--nprobe", default="16,32,64,128", help="IVF nprobe values")
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--latency-queries", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    doc = sweep(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(doc))
    print(render(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
