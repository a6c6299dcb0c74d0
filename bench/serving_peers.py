"""``make bench`` (serving peers): this service against Cornac's serving app on ML-1M, side by side
in one run, the peer in its own virtual environment (``bench/peers/setup.sh``).

- ours: ``python -m service`` (one uvicorn worker), the ML-1M MIRec bundle (trained when
  present, else a random-weight one of its shape: 3,706 items, index width 128, 166 history
  items excluded per user), exact index, Redis exposure store;
- Cornac 3's ``cornac.serving.app`` under gunicorn with one sync worker (its Dockerfile's way),
  BPR with 128 factors on ML-1M (bench/peers/cornac_model.py), ``remove_seen=true``.

Same load generator (wrk, k = 10, known users cycled), at 1 and 32 connections, alternating repeat
by repeat; peak RSS of each serving process. Writes ``<out>.json`` / ``<out>.md`` (default
docs/benchmarks/serving_peers). Without wrk or the peer's environment the page says so.

    python bench/serving_peers.py --duration 8 --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

from provenance import provenance  # noqa: E402
from serving import (  # noqa: E402
    K,
    add_load_options,
    delete_prefix,
    peak_rss_mb,
    wait_ready,
    write_config,
)
from serving_load import run_wrk  # noqa: E402
from serving_replicas import default_bundle  # noqa: E402

from common.ports import free_port  # noqa: E402
from models.bundle import load_bundle  # noqa: E402

CORNAC = ROOT / ".venv-peers" / "cornac" / "bin"
PEER_GET = ("/recommend?uid=", f"&k={K}&remove_seen=true")  # around the user id
DATA = ROOT.parent / "shared" / "data" / "ml-1m"


def cornac_model(data_dir: Path) -> Path:
    """The peer's model file, trained once under artifacts/bench/peers/cornac/."""
    out = ROOT / "artifacts" / "bench" / "peers" / "cornac"
    found = sorted(out.glob("BPR/*.pkl"))
    if found:
        return found[-1]
    cmd = [str(CORNAC / "python"), str(ROOT / "bench" / "peers" / "cornac_model.py")]
    cmd += ["--data-dir", str(data_dir), "--out", str(out)]
    res = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT)
    return Path(res.stdout.strip().splitlines()[-1]).resolve()


def worker_rss_mb(pid: int) -> float | None:
    """Peak RSS of ``pid``'s first child (gunicorn's worker), else of ``pid``."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return peak_rss_mb(int(children[0])) if children else peak_rss_mb(pid)


def stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--bundle", type=Path, default=None)
    ap.add_argument("--data-dir", type=Path, default=DATA)
    add_load_options(ap, ROOT / "docs" / "benchmarks" / "serving_peers")
    args = ap.parse_args()
    missing = [
        why
        for ok, why in (
            (shutil.which("wrk") is not None, "wrk is not installed"),
            ((CORNAC / "gunicorn").exists(), "Cornac's environment is not set up"),
            ((args.data_dir / "ratings.dat").exists(), f"no ML-1M at {args.data_dir}"),
        )
        if not ok
    ]
    doc: dict[str, Any] = {"provenance": {**provenance(), "loadavg_start": os.getloadavg()}}
    doc["command"] = "python bench/serving_peers.py"
    if missing:
        doc["skipped"] = missing
    else:
        doc.update(measure(args))
    doc["provenance"]["loadavg_end"] = os.getloadavg()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
    args.out.with_suffix(".md").write_text(render(doc))
    print(render(doc))
    return 0


def measure(args: argparse.Namespace) -> dict[str, Any]:
    bundle, source = default_bundle() if args.bundle is None else (args.bundle, "given")
    ours_users = list(load_bundle(bundle).user_ids[:1000])
    peer_users = [str(u) for u in range(1, 1001)]  # ML-1M user ids, all known to Cornac
    model = cornac_model(args.data_dir)
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    ports = {"ours": free_port(), "cornac": free_port()}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        cfg = write_config(work / "ours.toml", bundle, {"kind": "flat"}, prefix, True)
        env = {k: v for k, v in os.environ.items() if k != "ADMIN_TOKEN"}
        ours_env = {
            **env,
            "LONGTAIL_CONFIG": str(cfg),
            "HOST": "127.0.0.1",
            "PORT": str(ports["ours"]),
            "REDIS_URL": args.redis_url,
        }
        peer_env = {**env, "MODEL_PATH": str(model), "MODEL_CLASS": "cornac.models.BPR"}
        peer_cmd = [str(CORNAC / "gunicorn"), "-w", "1", "-b", f"127.0.0.1:{ports['cornac']}"]
        with (work / "ours.log").open("wb") as o1, (work / "cornac.log").open("wb") as o2:
            procs = {
                "ours": subprocess.Popen(
                    [sys.executable, "-m", "service"], cwd=ROOT, env=ours_env, stdout=o1, stderr=o1
                ),
                "cornac": subprocess.Popen(
                    [*peer_cmd, "cornac.serving.app:app"],
                    cwd=work,
                    env=peer_env,
                    stdout=o2,
                    stderr=o2,
                ),
            }
        load = {
            "ours": lambda c, s: run_wrk(url("ours"), ours_users, K, c, s),
            "cornac": lambda c, s: run_wrk(
                url("cornac"),
                peer_users,
                K,
                c,
                s,
                get=("/recommend?uid=", f"&k={K}&remove_seen=true"),
            ),
        }

        def url(name: str) -> str:
            return f"http://127.0.0.1:{ports[name]}"

        runs: dict[str, dict[str, list[dict[str, Any]]]] = {n: {"c1": [], "c32": []} for n in procs}
        try:
            wait_ready(url("ours"), procs["ours"], timeout_s=600)
            # Cornac's app has no readiness endpoint: poll a recommendation until it answers.
            wait_ready(url("cornac"), procs["cornac"], 300, path=f"/recommend?uid=1&k={K}")
            for name in procs:
                load[name](32, args.warmup)
            for _ in range(args.repeats):
                for conns in (1, 32):
                    for name in procs:
                        runs[name][f"c{conns}"].append(load[name](conns, args.duration))
            rss = {
                "ours": peak_rss_mb(procs["ours"].pid),
                "cornac": worker_rss_mb(procs["cornac"].pid),
            }
        finally:
            for proc in procs.values():
                stop(proc)
            delete_prefix(args.redis_url, prefix)
    med = {
        n: {
            c: {m: statistics.median(r[m] for r in rs) for m in ("rps", "p50_ms", "p99_ms")}
            for c, rs in by_c.items()
        }
        for n, by_c in runs.items()
    }
    return {
        "bundle": str(bundle.relative_to(ROOT) if bundle.is_relative_to(ROOT) else bundle),
        "bundle_source": source,
        "peer": {"cornac_model": str(model.relative_to(ROOT)), "server": "gunicorn -w 1 (sync)"},
        "duration_s": args.duration,
        "repeats": args.repeats,
        "runs": runs,
        "median": med,
        "peak_rss_mb": rss,
        "errors": {
            n: sum(r["errors"] for rs in by_c.values() for r in rs) for n, by_c in runs.items()
        },
        "ratio_rps": {c: med["ours"][c]["rps"] / med["cornac"][c]["rps"] for c in ("c1", "c32")},
    }


def render(doc: dict[str, Any]) -> str:
    p = doc["provenance"]
    m = p["machine"]
    lines = [
        "# Serving against a peer: Cornac's serving app",
        "",
        f"_Generated by `{doc['command']}` from `serving_peers.json`; do not edit by hand._",
        "",
        f"Host: **{m['cpu_model']}** ({m['cpus']} CPUs); 1/5/15-min load average "
        + " / ".join(f"{x:.1f}" for x in p["loadavg_start"])
        + " at the start, "
        + " / ".join(f"{x:.1f}" for x in p["loadavg_end"])
        + " at the end. Ratios are within this run.",
        "",
    ]
    if "skipped" in doc:
        return "\n".join([*lines, "Not measured: " + "; ".join(doc["skipped"]) + ".", ""])
    med, rss = doc["median"], doc["peak_rss_mb"]
    lines += [
        f"Ours: `python -m service` (one uvicorn worker), bundle `{doc['bundle']}` "
        f"({doc['bundle_source']}), exact index, Redis store. Cornac: `cornac.serving.app` under "
        f"{doc['peer']['server']}, BPR (128 factors) on ML-1M, `remove_seen=true`. wrk, k = {K}, "
        f"known users, {doc['duration_s']:g} s per measurement, median of {doc['repeats']} "
        "alternating repeats.",
        "",
        "| server | req/s @1 | p50 / p99 ms @1 | req/s @32 | p50 / p99 ms @32 | peak RSS MB "
        "| errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, label in (("ours", "longtail-rec"), ("cornac", "Cornac 3 (gunicorn, 1 worker)")):
        c1, c32 = med[name]["c1"], med[name]["c32"]
        mb = f"{rss[name]:.0f}" if rss[name] is not None else "?"
        lines.append(
            f"| {label} | {c1['rps']:,.0f} | {c1['p50_ms']:.2f} / {c1['p99_ms']:.2f} | "
            f"{c32['rps']:,.0f} | {c32['p50_ms']:.2f} / {c32['p99_ms']:.2f} | {mb} | "
            f"{doc['errors'][name]} |"
        )
    r = doc["ratio_rps"]
    ahead = all(v > 1 for v in r.values())
    lines += [
        "",
        f"Ours / Cornac, req/s: **{r['c1']:.2f}x** at 1 connection, **{r['c32']:.2f}x** at 32 "
        f"({'ahead at both' if ahead else 'not ahead at both'}).",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
