"""CPU cost of one ``POST /recommend`` inside the process: the ASGI app called directly, no
network, no HTTP server. Isolates what the service's own code costs per request (FastAPI, our
middleware, the model work) from uvicorn and the load generator, side by side with the bare
FastAPI endpoint of ``bench/serving_bare.py``. Medians over repeated passes, on one thread.

    python bench/request_cost.py --bundle artifacts/bench/trained-ml1m \
        --bundle artifacts/bench/trained-100k:hnsw --out docs/benchmarks/request_cost

Each service case: in-memory exposure store, access log on (written to /dev/null), known users
cycled from the bundle. ``--no-access-log`` and ``--profile`` (cProfile top functions) help find
where the time goes.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import logging
import os
import platform
import pstats
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from serving_bare import create_bare_app  # noqa: E402

from models.bundle import load_bundle  # noqa: E402
from service.access_log import configure_logging  # noqa: E402
from service.app import create_app  # noqa: E402
from service.settings import settings_from_dict  # noqa: E402

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def drive(app: App, n: int, users: list[str]) -> float:
    """Mean µs per request over ``n`` requests."""

    async def send(_: dict[str, Any]) -> None:
        return None

    start = time.perf_counter()
    for i in range(n):
        body = json.dumps({"user_id": users[i % len(users)], "k": 10}).encode()
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive(messages: list[dict[str, Any]] = messages) -> dict[str, Any]:
            return messages.pop() if messages else {"type": "http.disconnect"}

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/recommend",
            "raw_path": b"/recommend",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"bench"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 1),
            "server": ("127.0.0.1", 80),
            "state": {},
        }
        await app(scope, receive, send)
    return (time.perf_counter() - start) / n * 1e6


async def measure(app: App, users: list[str], args: argparse.Namespace) -> dict[str, Any]:
    await drive(app, args.requests // 2, users)  # warm-up
    profile = None
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        await drive(app, args.requests, users)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(25)
        profile = out.getvalue()
    passes = [await drive(app, args.requests, users) for _ in range(args.repeats)]
    return {"us_per_request": statistics.median(passes), "passes_us": passes, "profile": profile}


async def service_case(spec: str, args: argparse.Namespace) -> dict[str, Any]:
    path, _, kind = spec.partition(":")
    kind = kind or "flat"
    index: dict[str, Any] = {"kind": kind, "recall_queries": 0}
    if kind == "hnsw":
        index.update(hnsw_m=args.hnsw_m, hnsw_ef_search=args.hnsw_ef)
    settings = settings_from_dict(
        {
            "access_log": args.access_log,
            "variants": {"v": {"bundle": str(Path(path).resolve()), "index": index}},
            "buckets": {"control": {"variant": "v", "weight": 1}},
        }
    )
    users = list(load_bundle(Path(path), verify=False).user_ids[:1000])
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        result = await measure(app, users, args)
    return {"case": f"{Path(path).name} ({kind})", **result}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    bare = await measure(create_bare_app(), [f"u{i}" for i in range(1000)], args)
    cases = [{"case": "bare FastAPI endpoint", **bare}]
    for spec in args.bundle:
        cases.append(await service_case(spec, args))
    return {
        "command": "python bench/request_cost.py " + " ".join(sys.argv[1:]),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "requests_per_pass": args.requests,
        "repeats": args.repeats,
        "access_log": args.access_log,
        "cases": cases,
    }


def render(doc: dict[str, Any]) -> str:
    bare = doc["cases"][0]["us_per_request"]
    lines = [
        "# Request cost in process",
        "",
        f"Generated by `{doc['command']}` at {doc['created_at']} (git {doc['git_commit']}); "
        f"{doc['machine']['cpus']} CPUs, Python {doc['machine']['python']}. The ASGI app is "
        f"called directly (no network, no server), {doc['requests_per_pass']:,} known-user "
        f"requests per pass, median of {doc['repeats']} passes; in-memory store; access log "
        f"{'on' if doc['access_log'] else 'off'}.",
        "",
        "| case | µs / request | vs bare | passes (µs) |",
        "|---|---:|---:|---|",
    ]
    for c in doc["cases"]:
        passes = ", ".join(f"{p:.0f}" for p in c["passes_us"])
        lines.append(
            f"| {c['case']} | {c['us_per_request']:.0f} | {c['us_per_request'] / bare:.2f}x "
            f"| {passes} |"
        )
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bundle", action="append", default=[], help="DIR or DIR:flat|hnsw|ivf")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--hnsw-ef", type=int, default=224)
    ap.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    configure_logging("info")
    with open(os.devnull, "w") as devnull:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        doc = asyncio.run(run(args))
    for c in doc["cases"]:
        if c["profile"]:
            print(f"== {c['case']}\n{c['profile']}")
        c.pop("profile")
    text = render(doc)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
