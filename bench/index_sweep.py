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
from serving import recall_lambdas, train_bundle  # noqa: E402

from service.recall import exact_top_k, recall_against_exact  # noqa: E402
from service.serving_bundle import load_serving_bundle  # noqa: E402
from service.settings import IndexOptions  # noqa: E402
from service.split_index import AnyIndex, build_item_index  # noqa: E402

# The label of the recall set whose searches admit only tail items (see _meets_recall).
TAIL_ONLY = "tail items only"
# Tail entries a served set's exact lists need for its tail recall to be judged: with fewer, one
# query's handful of tail neighbours decides the figure (a trained 1M MIRec bundle had 56 in
# 100,000 at λ_p = 0).
MIN_TAIL_TRUTH = 1000


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


def _candidates(args: argparse.Namespace) -> list[tuple[str, IndexOptions]]:
    """(name, build options) of every index to build: ``--candidate NAME=key:value,…`` (an
    IndexOptions field per key), else one per ``--m`` (HNSW) or ``--nlist`` (IVF)."""
    if args.candidate:
        out = []
        for spec in args.candidate:
            name, _, fields = spec.partition("=")
            kv = dict(f.split(":", 1) for f in fields.split(",") if f)
            out.append((name, IndexOptions(**kv)))
        return out
    if args.kind == "hnsw":
        return [
            (
                f"hnsw M={m}",
                IndexOptions(kind="hnsw", hnsw_m=m, hnsw_ef_construction=args.ef_construction),
            )
            for m in _ints(args.m)
        ]
    return [(f"ivf nlist={n}", IndexOptions(kind="ivf", ivf_nlist=n)) for n in _ints(args.nlist)]


def _search_ids(index: AnyIndex, q: np.ndarray, k: int, admit: np.ndarray | None) -> np.ndarray:
    """Approximate top-``k`` ids ``[B, k]``; ``admit`` (bool per item): only those items, through
    the index's own selector (as the service excludes items)."""
    if admit is None:
        return index.search_batch(q, k)[1]
    return index.search_batch_admitting(q, k, admit)[1]


def _shown(path: Path) -> str:
    """The bundle's path as the page shows it: relative to the repository when inside it."""
    p = path.resolve()
    return str(p.relative_to(ROOT)) if p.is_relative_to(ROOT) else str(path)


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sweep(args: argparse.Namespace) -> dict[str, Any]:
    threads = os.cpu_count() or 1
    load_start = os.getloadavg()
    sb = load_serving_bundle(
        args.bundle, IndexOptions(kind="flat"), precompute_users_max=10**7, threads=threads
    )
    bundle = sb.bundle
    rng = np.random.default_rng(args.seed)
    n_users = len(bundle.user_ids)
    picks = rng.choice(n_users, size=min(args.queries, n_users), replace=False)
    # (label, queries, exact ids, admit tail items only): the served queries at each λ_p, and
    # the first λ_p's queries searched among tail items only. Why the tail-only set: a trained
    # model's top-50 may hold (almost) no tail item (the pages give the truth counts), so tail
    # recall is judged where tail items are the answer, as a popularity-penalised or tail-boosted
    # query would ask: does the index find tail items' neighbourhoods as well as head items'?
    # It is judged only where no served set has tail truth (_meets_recall).
    sets: list[tuple[str, np.ndarray, np.ndarray, bool]] = []
    for lam in recall_lambdas(bundle.lambda_p):
        q = np.stack([sb.known_query(int(u), lam) for u in picks]).astype(np.float32)
        label = "served" if lam is None else f"λ_p {lam:g}"
        sets.append((label, q, exact_top_k(bundle.embeddings, q, args.k, threads), False))
    tail_rows = np.flatnonzero(bundle.is_tail)
    if len(tail_rows) >= args.k:
        q = sets[0][1]
        local = exact_top_k(bundle.embeddings[tail_rows], q, args.k, threads)
        sets.append((TAIL_ONLY, q, np.where(local >= 0, tail_rows[local], -1), True))
    timed = sets[0][1][: args.latency_queries]
    flat = _latency_us(sb.index, timed, 10)
    base_rss = _rss_mb()
    rows: list[dict[str, Any]] = []
    for name, opts in _candidates(args):
        t = time.perf_counter()
        index = build_item_index(bundle.embeddings, opts, bundle.is_tail, threads=threads)
        build_s = time.perf_counter() - t
        index_mb = index.serialized_bytes() / 2**20
        field = "hnsw_ef_search" if opts.kind == "hnsw" else "ivf_nprobe"
        searches = _ints(args.ef) if opts.kind == "hnsw" else _ints(args.nprobe)
        for s in searches:
            index.options = index.options.model_copy(update={field: s})  # one search parameter
            recall = []
            for label, q, exact, tail_only in sets:
                approx = _search_ids(index, q, args.k, bundle.is_tail if tail_only else None)
                all_, head, tail, head_truth, tail_truth = recall_against_exact(
                    exact, approx, bundle.is_tail
                )
                recall.append(
                    {
                        "set": label,
                        "all": all_,
                        "head": head,
                        "tail": tail,
                        "head_truth": head_truth,
                        "tail_truth": tail_truth,
                    }
                )
            rows.append(
                {
                    "candidate": name,
                    "options": opts.model_dump(mode="json"),
                    "build": _build_value(opts),
                    "search": s,
                    "build_s": build_s,
                    "index_mb": index_mb,
                    "rss_mb": _rss_mb(),
                    "recall": recall,
                    "k10": _latency_us(index, timed, 10),
                    f"k{args.k}": _latency_us(index, timed, args.k),
                }
            )
            print(json.dumps(rows[-1]), flush=True)
        del index
    doc = {
        **provenance(),
        "bundle": _shown(args.bundle),
        "bundle_dataset": bundle.manifest.get("dataset"),
        "bundle_kind": bundle.kind,
        "n_items": bundle.n_items,
        "index_dim": int(bundle.embeddings.shape[1]),
        "lambda_p": bundle.lambda_p,
        "kind": args.kind if not args.candidate else "candidates",
        "build_param": "M" if args.kind == "hnsw" else "nlist",
        "search_param": "efSearch" if args.kind == "hnsw" else "nprobe",
        "k": args.k,
        "n_queries": len(picks),
        "flat_k10": flat,
        "base_rss_mb": base_rss,
        "targets": {
            "recall": args.target_recall,
            "p50_us": args.target_p50_us,
            "memory_mb": args.target_memory_mb,
        },
        "rows": rows,
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "note": args.note,
    }
    doc["choice"] = choose(doc)
    return doc


def _build_value(opts: IndexOptions) -> int | str:
    if opts.kind == "hnsw":
        return opts.hnsw_m
    return opts.ivf_nlist if opts.ivf_nlist is not None else "auto"


def _meets_recall(row: dict[str, Any], target: float) -> bool:
    """recall@k at least ``target`` on head and on tail items wherever they have truth, with tail
    judged somewhere (no tail truth anywhere does not count as met).

    The sets judged: the served ones (each λ_p) when their exact lists hold at least
    ``MIN_TAIL_TRUTH`` tail entries; only when none does, the tail-items-only search as well,
    which then stands in for the served tail (it is always measured and shown). Why: the target
    is the served index's recall; the tail-only search is a stricter, selective-filter question
    (a few % of the catalogue admitted) that stands in where the served lists have (almost) no
    tail item to judge."""
    served = [r for r in row["recall"] if r.get("set") != TAIL_ONLY]
    judged = any(r["tail"] is not None and r["tail_truth"] >= MIN_TAIL_TRUTH for r in served)
    recs = served if judged else row["recall"]
    sliced = all((r[s] is None or r[s] >= target) for r in recs for s in ("all", "head", "tail"))
    return sliced and any(r["tail"] is not None for r in recs)


def choose(doc: dict[str, Any]) -> dict[str, Any] | None:
    """The cheapest setting (p50 at k = 10) meeting the recall target on head and tail with the
    process within the memory target, or None when none does."""
    t = doc["targets"]
    ok = [
        r
        for r in doc["rows"]
        if _meets_recall(r, t["recall"])
        and r["rss_mb"] <= t["memory_mb"]
        and r["k10"]["p50_us"] <= t["p50_us"]
    ]
    if not ok:
        return None
    best = min(ok, key=lambda r: r["k10"]["p50_us"])
    return {
        "candidate": best["candidate"],
        "search": best["search"],
        "p50_us": best["k10"]["p50_us"],
    }


def render(doc: dict[str, Any]) -> str:
    k = doc["k"]
    sp = doc["search_param"]
    t = doc.get("targets")
    lines = [
        f"# Index sweep on {doc['n_items']:,} items",
        "",
        f"Generated by `{doc['command']}` at {doc['created_at']} (git {doc['git_commit']}). "
        f"Machine: {doc['machine']['cpus']} CPUs, Python {doc['machine']['python']}, "
        f"faiss {doc['machine']['faiss']}.",
        "",
        f"Bundle `{doc['bundle']}` ({doc['bundle_dataset']}, {doc.get('bundle_kind', '?')}), "
        f"index_dim {doc['index_dim']}, λ_p {doc['lambda_p']}; {doc['n_queries']:,} known-user "
        f"queries at the bundle's λ_p (and at λ_p = 0 for MIRec), and the same queries searched "
        f"among tail items only (both searches admit only tail items, a selective filter: it "
        f"stands in for the served tail only where no served set's exact top-{k} lists hold "
        f"{MIN_TAIL_TRUTH:,} tail entries). "
        f"Recall@{k} "
        f"against exact inner-product search (tail truth: tail entries in the exact top-{k} "
        f"lists); latency of "
        f"single searches on one thread. Exact search (IndexFlatIP), k = 10: p50 "
        f"{doc['flat_k10']['p50_us']:,.0f} µs. Index MB: FAISS' serialisation of the index; RSS: "
        f"the sweep process after the build (it also holds the bundle and the exact index"
        + (
            f", {doc['base_rss_mb']:,.0f} MB before any candidate)."
            if "base_rss_mb" in doc
            else ")."
        )
        + " Search parameter: efSearch (HNSW) or nprobe (IVF).",
        "",
        f"| candidate | {sp if doc['kind'] != 'candidates' else 'search'} | build s | index MB "
        f"| RSS MB | queries | recall@{k} all | head | tail | tail truth "
        f"| p50 µs k=10 | p99 µs k=10 | p50 µs k={k} |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in doc["rows"]:
        name = r.get("candidate", f"{doc['build_param']}={r['build']}")
        for j, rec in enumerate(r["recall"]):
            lam = (
                rec["set"]
                if "set" in rec
                else ("–" if rec["lambda_p"] is None else f"{rec['lambda_p']:g}")
            )
            lat = (
                f"{r['k10']['p50_us']:,.0f} | {r['k10']['p99_us']:,.0f} | "
                f"{r[f'k{k}']['p50_us']:,.0f}"
                if j == 0
                else "〃 | 〃 | 〃"
            )
            mem = f"{r['index_mb']:,.0f} | {r['rss_mb']:,.0f}" if "index_mb" in r else "– | –"
            head = "–" if rec["head"] is None else format(rec["head"], ".3f")
            tail = "–" if rec["tail"] is None else format(rec["tail"], ".3f")
            lines.append(
                f"| {name} | {r['search']} | {r['build_s']:.1f} | {mem} | {lam} "
                f"| {rec['all']:.3f} | {head} | {tail} "
                f"| {rec['tail_truth']:,} | {lat} |"
            )
    if "load_average" in doc:
        la = doc["load_average"]
        lines += [
            "",
            "The machine's 1/5/15-minute load average: "
            + " / ".join(f"{x:.1f}" for x in la["start"])
            + " at the start, "
            + " / ".join(f"{x:.1f}" for x in la["end"])
            + f" at the end, on {doc['machine']['cpus']} CPUs."
            + (f" {doc['note']}" if doc.get("note") else ""),
        ]
    if t is not None:
        lines += [
            "",
            f"Targets: recall@{k} ≥ {t['recall']} on all, head and tail items (at every λ_p "
            f"measured; on the tail-only search too where no served list holds a tail item), "
            f"RSS ≤ {t['memory_mb']:,.0f} MB, p50 ≤ {t['p50_us']:,.0f} µs at k = 10.",
            "",
        ]
        c = doc.get("choice")
        if c is None:
            lines.append("**No candidate meets every target** (not met).")
        else:
            lines.append(
                f"**Chosen: {c['candidate']} at {c['search']}**, the lowest p50 "
                f"({c['p50_us']:,.0f} µs at k = 10) among the settings meeting every target (met)."
            )
    return "\n".join(lines) + "\n"


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--kind", choices=["hnsw", "ivf"], default="hnsw")
    ap.add_argument("--m", default="16,32", help="HNSW M values")
    ap.add_argument("--ef", default="32,64,96,128,192,256", help="HNSW efSearch values")
    ap.add_argument("--ef-construction", type=int, default=200)
    ap.add_argument("--nlist", default="4000", help="IVF nlist values")
    ap.add_argument("--nprobe", default="16,32,64,128", help="IVF nprobe values")
    ap.add_argument(
        "--candidate",
        action="append",
        default=[],
        metavar="NAME=key:value,…",
        help="an index to build (IndexOptions fields); repeatable; overrides --kind/--m/--nlist",
    )
    ap.add_argument("--target-recall", type=float, default=0.95)
    ap.add_argument("--target-p50-us", type=float, default=2000.0)
    ap.add_argument("--target-memory-mb", type=float, default=3072.0)
    ap.add_argument(
        "--train-set",
        default=None,
        help="train the bench bundle of this key first when it is missing (bench/serving.py)",
    )
    ap.add_argument("--note", default="", help="a line for the page (e.g. what else ran)")
    ap.add_argument("--k", type=int, default=50)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--latency-queries", type=int, default=500)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument(
        "--render-from",
        type=Path,
        default=None,
        metavar="JSON",
        help="write the page from this sweep's JSON (choice by the current rule); measures nothing",
    )
    return ap


def main() -> int:
    ap = build_parser()
    args = ap.parse_args()
    if args.render_from is not None:
        # No measurement: the page again from a sweep's JSON, its choice by the current rule.
        doc = json.loads(args.render_from.read_text())
        doc["choice"] = choose(doc)
        args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(render(doc))
        return 0
    if args.train_set is not None and args.bundle is None:
        args.bundle = train_bundle(args.train_set)
    if args.bundle is None:
        ap.error("--bundle: required (or --train-set with its data on this machine)")
    doc = sweep(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(doc))
    print(render(doc))
    return 0


if __name__ == "__main__":
    sys.exit(main())
