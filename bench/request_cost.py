"""CPU cost of one ``POST /recommend`` inside the process: the ASGI app called directly, no
network, no HTTP server. Isolates what the service's own code costs per request (FastAPI, our
middleware, the model work) from uvicorn and the load generator, side by side with the bare
FastAPI endpoint of ``bench/serving_bare.py``, with the hot path (service/hot_path.py) on and off,
and the request's cost by stage (bench/request_stages.py); where the service answers known users
from precomputed answers (service/known_answers.py), also with those off, so that every request
searches. Medians over interleaved passes, on one thread. ``--synthetic 3706,6040,166`` (ML-1M's
shape) serves a random-weight bundle where no trained one is built.

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
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from provenance import provenance  # noqa: E402
from request_stages import STAGES, K, stage_pass, stage_table  # noqa: E402
from serving_bare import create_bare_app  # noqa: E402
from serving_bundles import synthetic_bundle  # noqa: E402

from models.bundle import load_bundle  # noqa: E402
from service.access_log import configure_logging  # noqa: E402
from service.app import create_app  # noqa: E402
from service.index import ItemIndex, SearchResult  # noqa: E402
from service.settings import settings_from_dict  # noqa: E402

App = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


async def drive(app: App, n: int, users: list[str]) -> float:
    """Mean CPU µs per request over ``n`` requests (process time: one thread does all the work,
    and time spent descheduled behind other jobs on a shared host is left out)."""

    async def send(_: dict[str, Any]) -> None:
        return None

    start = time.process_time()
    for i in range(n):
        body = json.dumps({"user_id": users[i % len(users)], "k": K}).encode()
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
    return (time.process_time() - start) / n * 1e6


@contextmanager
def fixed_search() -> Iterator[None]:
    """Diagnostic: every index search answers the same 10 items at no cost, so a pass times the
    request without FAISS and the exclusion (what the rest of the request costs in place, with
    the caches the search would otherwise evict)."""
    fixed = SearchResult(np.arange(K, dtype=np.int64), np.ones(K, dtype=np.float32))
    real = ItemIndex.search
    ItemIndex.search = lambda self, query, k, exclude=None: fixed  # type: ignore[method-assign]
    try:
        yield
    finally:
        ItemIndex.search = real  # type: ignore[method-assign]


async def warm(app: App, users: list[str], args: argparse.Namespace) -> None:
    await drive(app, args.requests // 2, users)
    await drain(app)


async def drain(app: App) -> None:
    """Let the recorder write what the pass queued (outside the timing): a pass never yields to
    the event loop, so without this later passes would time the queue-full drop path."""
    state = getattr(getattr(app, "state", None), "service", None)
    if state is not None:
        await state.recorder.flush(10.0)


async def profiled(app: App, users: list[str], args: argparse.Namespace) -> str:
    prof = cProfile.Profile()
    prof.enable()
    await drive(app, args.requests, users)
    prof.disable()
    await drain(app)
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats(args.profile_sort).print_stats(40)
    return out.getvalue()


def synthetic(spec: str) -> str:
    """``ITEMS,USERS,HISTORY[:index]`` -> a random-weight MIRec bundle of that shape (HISTORY
    items per user excluded when served) under artifacts/bench/ (bench/serving_bundles.py; built
    once), as a ``--bundle`` spec."""
    shape, _, kind = spec.partition(":")
    items, users, history = (int(x) for x in shape.split(","))
    path = synthetic_bundle(
        ROOT / "artifacts" / "bench" / f"random-{items}-{users}-{history}",
        n_users=users,
        n_items=items,
        history_per_user=history,
    )
    return f"{path}:{kind or 'flat'}"


def bundle_source(path: Path) -> str:
    """What the bundle is, from its manifest: dataset, kind, and whether its weights are random."""
    m = json.loads((path / "manifest.json").read_text())
    extra = m.get("extra") or {}
    dataset = m.get("dataset") or extra.get("dataset") or "?"
    note = m.get("note") or extra.get("note") or "trained"
    return f"{dataset}, {m.get('kind', '?')}, {m.get('n_items', '?')} items, {note}"


def service_settings(
    spec: str, args: argparse.Namespace, hot_path: bool, answers: bool = True
) -> Any:
    """``answers`` False: no known-user answers (service/known_answers.py), every request
    searches the index."""
    path, _, kind = spec.partition(":")
    kind = kind or "flat"
    index: dict[str, Any] = {"kind": kind, "recall_queries": 0}
    if kind == "hnsw":
        index.update(hnsw_m=args.hnsw_m, hnsw_ef_search=args.hnsw_ef)
    variant: dict[str, Any] = {"bundle": str(Path(path).resolve()), "index": index}
    if not answers:
        variant["answers_max_cells"] = 0
    return settings_from_dict(
        {
            "access_log": args.access_log,
            "hot_path": hot_path,
            "variants": {"v": variant},
            "buckets": {"control": {"variant": "v", "weight": 1}},
        }
    )


def _has_answers(app: Any) -> bool:
    return app.state.service.registry.current.variants["v"].answers is not None


async def run(args: argparse.Namespace) -> dict[str, Any]:
    specs = [*args.bundle, *(synthetic(s) for s in args.synthetic)]
    load_start = os.getloadavg()
    bare_app = create_bare_app()
    bare_users = [f"u{i}" for i in range(1000)]
    async with AsyncExitStack() as stack:
        cases: list[dict[str, Any]] = []
        for spec in specs:
            path, _, kind = spec.partition(":")
            bundle = load_bundle(Path(path), verify=False)
            apps = {}
            for mode, hot in (("on", True), ("off", False)):
                app = create_app(service_settings(spec, args, hot))
                await stack.enter_async_context(app.router.lifespan_context(app))
                apps[mode] = app
            if _has_answers(apps["on"]):
                # Known users are answered without a search: also time every request searching
                # (what a request with exclude / history / another λ_p costs).
                app = create_app(service_settings(spec, args, True, answers=False))
                await stack.enter_async_context(app.router.lifespan_context(app))
                apps["search"] = app
            cases.append(
                {
                    "case": f"{Path(path).name} ({kind or 'flat'})",
                    "source": bundle_source(Path(path)),
                    "users": list(bundle.user_ids[:1000]),
                    "apps": apps,
                    "passes": {mode: [] for mode in (*apps, "no_search")},
                    "n_items": bundle.n_items,
                    "stage_passes": [],
                }
            )
        await warm(bare_app, bare_users, args)
        for c in cases:
            for app in c["apps"].values():
                await warm(app, c["users"], args)
        profiles: dict[str, str] = {}
        if args.profile:
            profiles["bare FastAPI endpoint"] = await profiled(bare_app, bare_users, args)
            for c in cases:
                for mode, app in c["apps"].items():
                    profiles[f"{c['case']} hot path {mode}"] = await profiled(app, c["users"], args)
        bare_passes: list[float] = []
        # Interleaved: every pass times bare, then each case on / off / by stage, so a change in
        # the machine's load hits all of them alike; the on/off order alternates between passes.
        for r in range(args.repeats):
            bare_passes.append(await drive(bare_app, args.requests, bare_users))
            for c in cases:
                modes = list(c["apps"])
                for mode in modes if r % 2 == 0 else modes[::-1]:
                    app = c["apps"][mode]
                    c["passes"][mode].append(await drive(app, args.requests, c["users"]))
                    await drain(app)
                # The diagnostic and the stages on the app that searches for every request.
                searching = c["apps"].get("search", c["apps"]["on"])
                with fixed_search():
                    c["passes"]["no_search"].append(
                        await drive(searching, args.requests, c["users"])
                    )
                await drain(searching)
                state = searching.state.service
                c["stage_passes"].append(await stage_pass(state, c["users"], args.requests))
    bare = statistics.median(bare_passes)
    out_cases = []
    for c in cases:
        on = statistics.median(c["passes"]["on"])
        off = statistics.median(c["passes"]["off"])
        no_search = statistics.median(c["passes"]["no_search"])
        search = statistics.median(c["passes"]["search"]) if c["passes"].get("search") else None
        out_cases.append(
            {
                "case": c["case"],
                "source": c["source"],
                "n_items": c["n_items"],
                "no_search_us": no_search,
                "passes_no_search_us": c["passes"]["no_search"],
                "hot_path_on_us": on,
                "hot_path_off_us": off,
                "on_vs_bare": on / bare,
                "off_vs_bare": off / bare,
                "off_vs_on": off / on,
                "passes_on_us": c["passes"]["on"],
                "passes_off_us": c["passes"]["off"],
                # Hot path on with known answers off (None: the case has no answers).
                "searching_us": search,
                "passes_searching_us": c["passes"].get("search"),
                "excluded_items_mean": statistics.median(
                    p["excluded_items_mean"] for p in c["stage_passes"]
                ),
                **stage_table(c["stage_passes"], search if search is not None else on),
                "stage_passes_us": c["stage_passes"],
            }
        )
    return {
        **provenance(),
        "requests_per_pass": args.requests,
        "repeats": args.repeats,
        "access_log": args.access_log,
        "bare_us": bare,
        "bare_passes_us": bare_passes,
        "note": args.note,
        "load_average": {"start": load_start, "end": os.getloadavg()},
        "cases": out_cases,
        "profiles": profiles,
    }


# ML-1M's catalogue: a case with this many items is judged against the ML-1M target.
ML1M_ITEMS = 3706
TARGET_SHARE_OF_BARE = 0.60  # the bare endpoint's cost / ours, ML-1M, hot path on


def target_lines(doc: dict[str, Any]) -> list[str]:
    out = []
    for c in doc["cases"]:
        if c.get("n_items") != ML1M_ITEMS:
            continue
        share = doc["bare_us"] / c["hot_path_on_us"]
        met = "met" if share >= TARGET_SHARE_OF_BARE else "not met"
        searching = c.get("searching_us")
        how = " (known users answered from the precomputed answers)" if searching else ""
        out.append(
            f"Target, {c['case']} (ML-1M's {ML1M_ITEMS:,} items){how}: the bare endpoint's cost "
            f"is **{share:.0%}** of ours (target ≥ {TARGET_SHARE_OF_BARE:.0%}: {met})."
        )
        searched = searching if searching is not None else c["hot_path_on_us"]
        if searching is not None:
            s_share = doc["bare_us"] / searching
            s_met = "met" if s_share >= TARGET_SHARE_OF_BARE else "not met"
            out.append(
                f"With every request searching the index (known answers off: what a request "
                f"at another λ_p, with k above the answers' depth or with exclusions that leave "
                f"fewer than k of them costs): "
                f"**{s_share:.0%}** ({s_met})."
            )
        if "no_search_us" in c:
            out.append(
                f"Without the index search (the diagnostic row) the request costs "
                f"{c['no_search_us']:.0f} µs: the search with the history exclusion accounts for "
                f"{searched - c['no_search_us']:.0f} µs of the {searched:.0f}."
            )
    return out


def render(doc: dict[str, Any]) -> str:
    bare = doc["bare_us"]
    m = doc["machine"]
    lines = [
        "# Request cost in process",
        "",
        f"Generated by `{doc['command']}` at {doc['created_at']} (git {doc['git_commit']}) on "
        f"**{m['cpu_model']}** ({m['cpus']} CPUs), Python {m['python']}, faiss {m['faiss']}. "
        "The ASGI app is called directly (no network, no server), "
        f"{doc['requests_per_pass']:,} known-user requests per pass (k = {K}, the user's history "
        f"excluded), median of {doc['repeats']} interleaved passes (each pass times the bare "
        "endpoint, then every case with the hot path on and off, and where known users are "
        "answered from precomputed answers (service/known_answers.py) also with them off, then "
        "its stages); in-memory "
        f"store; access log {'on' if doc['access_log'] else 'off'}. Times are the process's CPU "
        "time (`time.process_time`): on a shared host the time the process waits descheduled "
        "behind other work is not counted, which keeps passes comparable under load.",
        "",
        "Every figure is a ratio within this one run, on this host: absolute µs do not carry over "
        "to another CPU (or to this one under other load), and nothing in `bench/` compares them "
        "across hosts.",
        "",
        "## Whole request, hot path on and off",
        "",
        "| case | µs / request | vs bare | passes (µs) |",
        "|---|---:|---:|---|",
        f"| bare FastAPI endpoint | {bare:.0f} | 1.00x | "
        + ", ".join(f"{p:.0f}" for p in doc["bare_passes_us"])
        + " |",
    ]
    for c in doc["cases"]:
        for mode in ("on", "off"):
            us = c[f"hot_path_{mode}_us"]
            passes = ", ".join(f"{p:.0f}" for p in c[f"passes_{mode}_us"])
            lines.append(
                f"| {c['case']}, hot path {mode} | {us:.0f} | {us / bare:.2f}x | {passes} |"
            )
        if c.get("searching_us") is not None:
            us = c["searching_us"]
            passes = ", ".join(f"{p:.0f}" for p in c["passes_searching_us"])
            lines.append(
                f"| {c['case']}, hot path on, known answers off (every request searches) "
                f"| {us:.0f} | {us / bare:.2f}x | {passes} |"
            )
        if "no_search_us" in c:
            us = c["no_search_us"]
            passes = ", ".join(f"{p:.0f}" for p in c["passes_no_search_us"])
            lines.append(
                f"| {c['case']}, hot path on, search replaced by a fixed answer (diagnostic) "
                f"| {us:.0f} | {us / bare:.2f}x | {passes} |"
            )
    lines += ["", *target_lines(doc)]
    lines += ["", "Hot path off / on (the hot path's saving as a ratio):", ""]
    for c in doc["cases"]:
        lines.append(
            f"- {c['case']}: off {c['hot_path_off_us']:.0f} µs / on {c['hot_path_on_us']:.0f} µs "
            f"= {c['off_vs_on']:.2f}x"
        )
    lines += ["", "## By stage (hot path on, every request searching)", ""]
    header = "| stage | " + " | ".join(c["case"] for c in doc["cases"]) + " |"
    lines += [header, "|---|" + "---:|" * len(doc["cases"])]
    for s in STAGES:
        lines.append(
            f"| {s} | "
            + " | ".join(
                f"{c['stages_us'][s]:.1f} ({c['stages_us'][s] / c['request_us']:.0%})"
                for c in doc["cases"]
            )
            + " |"
        )
    for label, key in (("sum of stages", "sum_us"), ("measured request", "request_us")):
        lines.append(f"| **{label}** | " + " | ".join(f"{c[key]:.1f}" for c in doc["cases"]) + " |")
    lines.append(
        "| framework (request − sum: ASGI, middleware, request object, access log) | "
        + " | ".join(f"{c['framework_us']:.1f}" for c in doc["cases"])
        + " |"
    )
    lines.append(
        "| bare endpoint, same run | " + " | ".join(f"{bare:.1f}" for _ in doc["cases"]) + " |"
    )
    lines += [
        "",
        "Each stage is timed alone, by calling the functions the handler calls "
        "(bench/request_stages.py names them) on the same app state, bundle and users; "
        "per-stage medians over the passes. Exclusion is the history lookup plus the search "
        "with FAISS' selector minus the plain search (history excluded per user, mean: "
        + ", ".join(f"{c['case']} {c['excluded_items_mean']:.0f} items" for c in doc["cases"])
        + "). Timed alone, a stage runs with warm caches, so the sum tends to undercount.",
        "",
        "## Notes",
        "",
        "- The machine's 1/5/15-minute load average: "
        + " / ".join(f"{x:.1f}" for x in doc["load_average"]["start"])
        + " at the start, "
        + " / ".join(f"{x:.1f}" for x in doc["load_average"]["end"])
        + f" at the end, on {m['cpus']} CPUs: other work shared the cores, so absolute µs are "
        "inflated and vary from pass to pass; read the ratios of this run.",
    ]
    if doc.get("note"):
        lines.append(f"- {doc['note']}")
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--bundle", action="append", default=[], help="DIR or DIR:flat|hnsw|ivf")
    ap.add_argument(
        "--synthetic",
        action="append",
        default=[],
        metavar="ITEMS,USERS,HISTORY[:INDEX]",
        help="also a random-weight MIRec bundle of that shape (bench/serving_bundles.py)",
    )
    ap.add_argument("--note", default="", help="a line for the page's notes (e.g. the load)")
    ap.add_argument("--requests", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--hnsw-m", type=int, default=32)
    ap.add_argument("--hnsw-ef", type=int, default=224)
    ap.add_argument("--access-log", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    ap.add_argument("--profile-sort", default="tottime", choices=["tottime", "cumulative"])
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args()
    if args.repeats < 5:
        ap.error("--repeats: at least 5 (the page reports medians)")
    if args.requests < 1 or args.requests > 10_000:
        ap.error("--requests: 1..10000 (a pass must fit the recorder's queue)")
    configure_logging("info")
    with open(os.devnull, "w") as devnull:
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler):
                handler.setStream(devnull)
        doc = asyncio.run(run(args))
    for name, text in doc.pop("profiles").items():
        print(f"== {name}\n{text}")
    text = render(doc)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.with_suffix(".json").write_text(json.dumps(doc, indent=2) + "\n")
        args.out.with_suffix(".md").write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
