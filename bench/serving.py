"""``make bench`` (serving part): the service under load, with its references, in one run.

For each catalogue: the service as its own process (``python -m service``, one uvicorn worker,
Redis exposure store unless noted), load from a separate process (wrk, else an asyncio client):
requests/s at 32 connections, p50/p99 at 1 and at 32 connections, the server's peak RSS. In the
same run, two references: a bare FastAPI endpoint parsing the same body and returning a fixed list
(``bench/serving_bare.py``: the framework's ceiling) and the index search alone (in process, one
thread), with recall@50 of approximate indexes against exact search on head and tail items.
Writes ``<out>.json`` and ``<out>.md`` (default docs/benchmarks/serving).

    python bench/serving.py                      # the full measurement (tens of minutes)
    python bench/serving.py --quick --scale 0.05 --catalogues ml1m,100k --out /tmp/serving
                                                 # a smoke run of every code path

Catalogues: ``ml1m`` (3,706 items, 6,040 users, index_dim 128; ``--ml1m-bundle``, else the
experiment's trained bundle under runs/cache/ml1m/ when present, else with ``--train-bundles`` one
trained by configs/ml1m_mirec.toml), ``100k`` (100,000 items, exact and
HNSW), ``1m`` (1,000,000 items, IVF by default, ``--large-index hnsw``). Without a given bundle,
a random-weight MIRec bundle of that shape is built under artifacts/bench/ (serving cost depends
on shapes; recall on the embedding distribution, so prefer trained bundles for the recall figures
(``--train-bundles``) — the report names the source).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import faiss
import httpx
import numpy as np
import redis
import torch

ROOT = Path(__file__).resolve().parents[1]

# bench/ is on sys.path as the script's directory (a script named training.py there would shadow the
# training package here, so this script never imports it; it runs the training CLI instead).
from provenance import provenance  # noqa: E402
from serving_bundles import synthetic_bundle  # noqa: E402
from serving_load import run_load  # noqa: E402
from serving_report import render  # noqa: E402

from common.ports import free_port  # noqa: E402
from service.serving_bundle import load_serving_bundle  # noqa: E402
from service.settings import IndexOptions  # noqa: E402

K = 10
# Where `python -m training experiment --config configs/experiments/mirec_ml1m.toml` keeps the
# trained ML-1M MIRec bundle; used for the ml1m catalogue when --ml1m-bundle is not given.
ML1M_TRAINED = ROOT / "runs" / "cache" / "ml1m" / "bundles" / "mirec_ml1m" / "mirec"
# Bundles trained with --train-synthetic, by the training CLI: (config, overrides). 100k: the
# demo config on a 100,000-item synthetic catalogue with the model at dim 64 (index_dim 128 like
# the ML-1M bundle; λ_p tuned on validation). ml1m: configs/ml1m_mirec.toml, when the ML-1M files
# are on this machine (../shared/data/ml-1m). 1m: configs/large_bundle.toml, for the index sweep
# only (bench/index_sweep.py --train-set 1m; its full-ranking validation over 1M items makes it
# the slow one); the serving benchmark's 1m catalogue stays random-weight (SERVED_TRAINED).
TRAIN_SETS: dict[str, tuple[str, list[str]]] = {
    "100k": (
        "configs/demo.toml",
        [
            "data.synthetic.preset=custom",
            "data.synthetic.n_users=20000",
            "data.synthetic.n_items=100000",
            "data.synthetic.interactions_per_user=60",
            "mirec.many_shot_epochs=6",
            "mirec.few_shot_epochs=4",
            "train.epochs=6",
            "model.dim=64",
            "model.hidden=[128, 64]",
        ],
    ),
    "ml1m": ("configs/ml1m_mirec.toml", []),
    "1m": ("configs/large_bundle.toml", []),
}
SERVED_TRAINED = ("100k", "ml1m")
ML1M_DATA = ROOT.parent / "shared" / "data" / "ml-1m"


def train_bundle(key: str) -> Path | None:
    """The trained bundle for ``key`` under artifacts/bench/ (trained once); None if its data is
    not on this machine."""
    if key == "ml1m" and not (ML1M_DATA / "ratings.dat").exists():
        return None
    out = ROOT / "artifacts" / "bench" / f"trained-{key}"
    if not (out / "manifest.json").exists():
        config, overrides = TRAIN_SETS[key]
        sets = [a for kv in (*overrides, "train.progress=false") for a in ("--set", kv)]
        print(f"-- training the {key} bundle into {out}", flush=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "training",
                "train",
                "--config",
                str(ROOT / config),
                *sets,
                "--out",
                str(out),
            ],
            cwd=ROOT,
            check=True,
        )
    return out


def peak_rss_mb(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def wait_ready(
    url: str, proc: subprocess.Popen[bytes], timeout_s: float, path: str = "/readyz"
) -> None:
    """Until ``url + path`` answers 200 (``path``: a peer without a readiness endpoint is polled
    on a real request)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} during startup")
        try:
            if httpx.get(f"{url}{path}", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} not ready after {timeout_s} s")


def serve_and_load(
    cmd: list[str],
    env: dict[str, str],
    port: int,
    users: list[str],
    args: argparse.Namespace,
    log: Path,
) -> dict[str, Any]:
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            wait_ready(url, proc, timeout_s=3600)
            run_load(url, users, K, 32, args.warmup)  # warm-up: caches, allocator, JIT-free paths
            runs: dict[str, list[dict[str, Any]]] = {"c1": [], "c32": []}
            for _ in range(args.repeats):  # alternating, so drift hits both alike
                runs["c1"].append(run_load(url, users, K, 1, args.duration))
                runs["c32"].append(run_load(url, users, K, 32, args.duration))
            rss = peak_rss_mb(proc.pid)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
    return {"load": {c: median_load(r) for c, r in runs.items()}, "peak_rss_mb": rss}


def median_load(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the repeated measurements (errors summed), with the per-repeat
    req/s kept for the record."""
    out = dict(runs[0])
    for key in ("rps", "p50_ms", "p99_ms"):
        out[key] = float(np.median([r[key] for r in runs]))
    out["requests"] = sum(r["requests"] for r in runs)
    out["errors"] = sum(r["errors"] for r in runs)
    out["rps_repeats"] = [r["rps"] for r in runs]
    return out


def delete_prefix(redis_url: str, prefix: str) -> None:
    """Remove a benchmark run's exposure keys (``prefix:*``) from Redis."""
    client = redis.Redis.from_url(redis_url)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for i in range(0, len(keys), 1000):
        client.delete(*keys[i : i + 1000])


def add_load_options(ap: argparse.ArgumentParser, out: Path) -> None:
    """The options of a side-by-side load benchmark (bench/serving_replicas.py, serving_peers.py):
    seconds per measurement, warm-up, repeats, the Redis for the exposure store, the page stem."""
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    )
    ap.add_argument("--out", type=Path, default=out)


def write_config(
    path: Path,
    bundle: Path,
    index: dict[str, Any],
    prefix: str,
    access_log: bool,
    stack: str = "auto",
) -> Path:
    """A one-variant, one-bucket service config at ``path``, exposure keys under ``prefix``."""
    index_toml = ", ".join(
        f"{k} = {json.dumps(v)}" for k, v in {**index, "recall_queries": 0}.items()
    )
    path.write_text(
        f"build_threads = {os.cpu_count() or 1}\naccess_log = {str(access_log).lower()}\n"
        + ('http = "h11"\nloop = "asyncio"\n' if stack == "h11" else "")
        + f'[variants.v]\nbundle = "{bundle}"\nindex = {{ {index_toml} }}\n'
        f'[buckets.control]\nvariant = "v"\nweight = 1\n'
        f'[exposure]\nkey_prefix = "{prefix}"\nqueue_size = 100000\n'
    )
    return path


def service_case(
    name: str,
    catalogue: str,
    bundle: Path,
    index: dict[str, Any],
    store: str,
    users: list[str],
    args: argparse.Namespace,
    workdir: Path,
    stack: str = "auto",
) -> dict[str, Any]:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    cfg = write_config(workdir / f"{name}.toml", bundle, index, prefix, args.access_log, stack)
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ADMIN_TOKEN")}
    env.update(LONGTAIL_CONFIG=str(cfg), HOST="127.0.0.1", PORT=str(free_port()))
    if store == "redis":
        env["REDIS_URL"] = args.redis_url
    print(f"-- {name}: {catalogue}, {index['kind']}, {store}", flush=True)
    result = serve_and_load(
        [sys.executable, "-m", "service"],
        env,
        int(env["PORT"]),
        users,
        args,
        workdir / f"{name}.log",
    )
    if store == "redis":
        delete_prefix(args.redis_url, prefix)
    return {"name": name, "catalogue": catalogue, "index": index["kind"], "store": store, **result}


def recall_lambdas(bundle_lambda: float | None) -> list[float | None]:
    """The λ_p values recall is measured at: the served default, and for MIRec also 0.

    Why 0: a request may override λ_p anywhere in [0, 1], and λ_p = 0 (few-shot score only) is the
    most tail-heavy end of that range; a trained bundle's top 50 at its default λ_p may hold too
    few tail items for a tail recall to mean anything (the truth counts are reported with it)."""
    if bundle_lambda is None:
        return [None]
    return [bundle_lambda] if bundle_lambda == 0 else [bundle_lambda, 0.0]


def index_alone(
    catalogue: str,
    bundle: Path,
    index: dict[str, Any],
    source: str,
    n_queries: int,
    n_recall_queries: int,
) -> tuple[dict[str, Any], list[str]]:
    """Build the index in process, time single searches (the served k, the known user's own
    history excluded, as the service calls it), and measure recall@50 head/tail."""
    from service.recall import measure_recall

    opts = IndexOptions(**index, recall_queries=0)
    t = time.perf_counter()
    sb = load_serving_bundle(
        bundle, opts, precompute_users_max=200_000, threads=os.cpu_count() or 1
    )
    build_s = time.perf_counter() - t
    rng = np.random.default_rng(0)
    n_users = len(sb.bundle.user_ids)
    picks = rng.choice(n_users, size=min(max(n_queries, n_recall_queries), n_users), replace=False)
    lam = sb.bundle.lambda_p
    queries = np.stack([sb.known_query(int(u), lam) for u in picks[:n_queries]])
    history = sb.bundle.user_history
    faiss.omp_set_num_threads(1)
    times = []
    for u, q in zip(picks[:n_queries], queries, strict=True):
        t = time.perf_counter()
        if history is not None:
            indptr, items = history
            sb.index.search(q, K, items[indptr[u] : indptr[u + 1]])
        else:
            sb.index.search(q, K)
        times.append(time.perf_counter() - t)
    times_us = np.asarray(times) * 1e6
    recall = []
    if index["kind"] != "flat":
        for rl in recall_lambdas(lam):
            rq = np.stack([sb.known_query(int(u), rl) for u in picks[:n_recall_queries]])
            rep = measure_recall(
                sb.index,
                sb.bundle.embeddings,
                rq,
                sb.bundle.is_tail,
                50,
                threads=os.cpu_count() or 1,
            ).as_dict()
            recall.append({"lambda_p": rl, **rep})
    users = [sb.bundle.user_ids[int(u)] for u in picks[:1000]]
    row = {
        "catalogue": catalogue,
        "index": index["kind"],
        "params": {k: v for k, v in index.items() if k != "kind"},
        "n_items": sb.n_items,
        "index_dim": sb.index.dim,
        "build_s": build_s,
        "p50_us": float(np.percentile(times_us, 50)),
        "p99_us": float(np.percentile(times_us, 99)),
        "searches_per_s": float(len(times) / (times_us.sum() / 1e6)),
        "recall": recall or None,
        "bundle_source": source,
    }
    del sb
    gc.collect()
    return row, users


def catalogue_plan(args: argparse.Namespace) -> list[dict[str, Any]]:
    s = args.scale
    hnsw = {"kind": "hnsw", "hnsw_m": args.hnsw_m, "hnsw_ef_search": args.hnsw_ef}
    ivf = {"kind": "ivf", "ivf_nprobe": args.ivf_nprobe}
    big_index = hnsw if args.large_index == "hnsw" else ivf
    plan = {
        "ml1m": {
            "label": "ML-1M MIRec (3,706 items, index_dim 128)",
            "items": 3706,
            "users": 6040,
            "bundle": args.ml1m_bundle,
            "runs": [("flat", "redis"), ("flat", "memory"), ("flat", "redis", "h11")],
        },
        "100k": {
            "label": f"synthetic {int(100_000 * s):,} items, MIRec",
            "items": int(100_000 * s),
            "users": 50_000,
            "bundle": args.bundle_100k,
            "runs": [("flat", "redis"), ("hnsw", "redis")],
        },
        "1m": {
            "label": f"synthetic {int(1_000_000 * s):,} items (large)",
            "items": int(1_000_000 * s),
            "users": 100_000,
            "bundle": args.bundle_1m,
            "runs": [(big_index["kind"], "redis")],
        },
    }
    indexes = {"flat": {"kind": "flat"}, "hnsw": hnsw, "ivf": ivf}
    out = []
    for key in args.catalogues.split(","):
        p = plan[key]
        runs = [(indexes[r[0]], r[1], r[2] if len(r) > 2 else "auto") for r in p["runs"]]
        out.append({"key": key, **p, "runs": runs})
    return out


# A slice's recall counts toward a target only when the exact top-50 lists held at least this many
# of its items in all (fewer: the figure is shown, marked too small to judge).
MIN_TRUTH = 100


def recall_target(measured: list[dict[str, Any]], threshold: float) -> tuple[bool | None, str]:
    """(met, text) over every λ_p recall was measured at: met when head and tail reach
    ``threshold`` wherever their truth counts are large enough; None when none could be judged."""
    parts, judged, met = [], 0, True
    for r in measured:
        lam = "–" if r["lambda_p"] is None else f"{r['lambda_p']:g}"
        cells = []
        for s in ("head", "tail"):
            value, truth = r[s], r[f"{s}_truth"]
            if value is None or truth < MIN_TRUTH:
                cells.append(f"{s} n/a ({truth} items)")
                continue
            judged += 1
            met &= value >= threshold
            cells.append(f"{s} {value:.3f}")
        parts.append(f"λ_p {lam}: " + ", ".join(cells))
    return (met if judged else None), "; ".join(parts)


def targets(doc: dict[str, Any]) -> list[dict[str, Any]]:
    cases = {c["name"]: c for c in doc["cases"]}
    alone = {(a["catalogue"], a["index"]): a for a in doc["index_alone"]}
    bare = cases["bare"]["load"]["c32"]["rps"]
    out = []

    def add(target: str, measured: str, met: bool | None) -> None:
        out.append({"target": target, "measured": measured, "met": met})

    if "ml1m-flat-redis" in cases:
        r = cases["ml1m-flat-redis"]["load"]["c32"]["rps"]
        add("ML-1M exact ≥ 50% of the bare endpoint's req/s", f"{r / bare:.0%}", r / bare >= 0.5)
        if "ml1m-flat-redis-h11" in cases and "bare-h11" in cases:
            h = cases["ml1m-flat-redis-h11"]["load"]["c32"]["rps"]
            hb = cases["bare-h11"]["load"]["c32"]["rps"]
            add(
                "(both on uvicorn's pure-Python h11 stack) ML-1M exact ≥ 50% of bare",
                f"{h / hb:.0%}",
                None,
            )
        if "ml1m-flat-memory" in cases:
            m = cases["ml1m-flat-memory"]["load"]["c32"]["rps"]
            add(
                "Redis store costs ≤ 15% throughput vs in-memory",
                f"{1 - r / m:.1%} slower",
                1 - r / m <= 0.15,
            )
    if "100k-flat-redis" in cases:
        p50 = cases["100k-flat-redis"]["load"]["c1"]["p50_ms"]
        add("100k exact: p50 at 1 connection ≤ 5 ms", f"{p50:.2f} ms", p50 <= 5)
    if "100k-hnsw-redis" in cases:
        c = cases["100k-hnsw-redis"]["load"]
        add(
            "100k HNSW ≥ 30% of the bare endpoint's req/s",
            f"{c['c32']['rps'] / bare:.0%}",
            c["c32"]["rps"] / bare >= 0.3,
        )
        add(
            "100k HNSW: p50 at 1 connection ≤ 2 ms",
            f"{c['c1']['p50_ms']:.2f} ms",
            c["c1"]["p50_ms"] <= 2,
        )
        met, measured = recall_target(alone[("100k", "hnsw")]["recall"], 0.95)
        add("100k HNSW recall@50 vs exact ≥ 0.95 on head and on tail", measured, met)
    for name, c in cases.items():
        if name.startswith("1m-"):
            rss = c["peak_rss_mb"]
            add(
                "1M: peak RSS ≤ 3 GB",
                f"{rss:,.0f} MB" if rss else "–",
                None if rss is None else rss <= 3072,
            )
            _, measured = recall_target(alone[("1m", c["index"])]["recall"], 0.95)
            add("1M: recall@50 vs exact (report)", measured, None)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--catalogues", default="ml1m,100k,1m")
    ap.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    ap.add_argument(
        "--repeats", type=int, default=3, help="measurements per figure (the median is reported)"
    )
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--quick", action="store_true", help="2 s measurements (smoke test)")
    ap.add_argument(
        "--scale", type=float, default=1.0, help="multiply the synthetic catalogue sizes"
    )
    ap.add_argument("--ml1m-bundle", type=Path, default=None)
    ap.add_argument("--bundle-100k", type=Path, default=None)
    ap.add_argument("--bundle-1m", type=Path, default=None)
    ap.add_argument("--large-index", choices=["ivf", "hnsw"], default="ivf")
    ap.add_argument("--hnsw-m", type=int, default=32)
    # 224: the cheapest efSearch whose tail recall@50 keeps a margin over 0.95 on the trained 100k
    # bundle (docs/benchmarks/index_sweep_100k.md: 192 -> 0.956, 224 -> 0.971, 256 -> 0.976).
    ap.add_argument("--hnsw-ef", type=int, default=224, help="HNSW efSearch")
    ap.add_argument("--ivf-nprobe", type=int, default=128)
    ap.add_argument(
        "--train-bundles",
        "--train-synthetic",
        dest="train_synthetic",
        action="store_true",
        help="serve trained bundles for ml1m (when its data is here) and 100k, trained once by "
        "the training CLI into artifacts/bench/, instead of random-weight ones: trained "
        "embeddings give representative recall",
    )
    ap.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
    )
    ap.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the service's structured access log (on by default, as deployed)",
    )
    ap.add_argument(
        "--queries", type=int, default=2000, help="queries timed in the index-alone figures"
    )
    ap.add_argument(
        "--recall-queries", type=int, default=5000, help="known users whose queries measure recall"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks" / "serving")
    args = ap.parse_args()
    if args.quick:
        args.duration, args.warmup, args.queries, args.recall_queries = 2.0, 1.0, 300, 300
        args.repeats = 1
    if args.ml1m_bundle is None and (ML1M_TRAINED / "manifest.json").exists():
        args.ml1m_bundle = ML1M_TRAINED
    redis.Redis.from_url(args.redis_url).ping()  # fail early: the cases need the real Redis
    torch.set_num_threads(1)

    workdir = Path(tempfile.mkdtemp(prefix="bench-serving-"))
    doc: dict[str, Any] = {
        **provenance(),
        "load_tool": "wrk"
        if subprocess.run(["which", "wrk"], capture_output=True).returncode == 0
        else "asyncio httpx client",
        "duration_s": args.duration,
        "repeats": args.repeats,
        "warmup_s": args.warmup,
        "k": K,
        "access_log": args.access_log,
        "cases": [],
        "index_alone": [],
        "notes": [
            "Exposure recording goes through a bounded queue drained by a background task "
            "(one Lua call per batch of served lists), so Redis latency is not on the request "
            "path.",
            "Random-weight bundles make near-ties common among the top 50, a hard case for "
            "approximate search: use trained bundles (--bundle-100k, --train-bundles) for the "
            "recall figures.",
            "Tail recall is judged only where the exact top-50 lists held at least "
            f"{MIN_TRUTH} tail entries: a trained bundle at its tuned λ_p may rank (almost) no "
            "tail item into the top 50, so recall is also measured at λ_p = 0, the most "
            "tail-heavy override a request can ask for.",
            "The service answers POST /recommend past FastAPI's router (service/hot_path.py: "
            "same handler, validation, errors and OpenAPI document); the bare reference is a "
            "plain FastAPI route, i.e. the framework's usual per-request cost.",
            "torch and FAISS run one thread on the serving thread: one request never uses both "
            "cores.",
        ],
    }
    users: list[str] = []
    for cat in catalogue_plan(args):
        bundle, source = cat["bundle"], "given (trained)"
        if (
            bundle is None
            and args.train_synthetic
            and cat["key"] in SERVED_TRAINED
            and args.scale == 1
        ):
            bundle = train_bundle(cat["key"])
            source = "trained (ML-1M)" if cat["key"] == "ml1m" else "trained (synthetic)"
        if bundle is None:
            source = "random weights"
            bundle = synthetic_bundle(
                ROOT / "artifacts" / "bench" / f"{cat['key']}-{cat['items']}",
                n_users=cat["users"],
                n_items=cat["items"],
            )
        for index, store, stack in cat["runs"]:
            if not any(
                a["catalogue"] == cat["key"] and a["index"] == index["kind"]
                for a in doc["index_alone"]
            ):
                row, users = index_alone(
                    cat["key"], bundle, index, source, args.queries, args.recall_queries
                )
                doc["index_alone"].append(row)
            name = f"{cat['key']}-{index['kind']}-{store}" + ("-h11" if stack == "h11" else "")
            case = service_case(
                name, cat["label"], bundle, index, store, users, args, workdir, stack
            )
            case["stack"] = stack
            doc["cases"].append(case)
        if not any(c["name"] == "bare" for c in doc["cases"]):
            # Two references: the same server stack as the service (the targets' ceiling), and
            # uvicorn's pure-Python stack (h11 + asyncio) for the service's h11 case.
            for j, stack in enumerate(("auto", "h11")):
                port = free_port()
                print(f"-- bare FastAPI reference ({stack})", flush=True)
                bare = serve_and_load(
                    [sys.executable, str(ROOT / "bench" / "serving_bare.py"), str(port), stack],
                    dict(os.environ),
                    port,
                    users,
                    args,
                    workdir / f"bare-{stack}.log",
                )
                doc["cases"].insert(
                    j,
                    {
                        "name": "bare" if stack == "auto" else "bare-h11",
                        "catalogue": "fixed list",
                        "index": "–",
                        "store": "–",
                        "stack": stack,
                        **bare,
                    },
                )
    doc["n_users_cycled"] = len(users)
    doc["targets"] = targets(doc)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(doc))
    print(args.out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
