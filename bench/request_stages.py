"""The cost of one ``POST /recommend`` by stage, each stage timed in isolation.

Each stage calls the same functions service/routes/recommend.py and service/variant.py call, on
the live app's own state (same bundle, index, assigner, recorder) and the same known users:

- parse: ``RecommendRequest.model_validate_json`` on the request body;
- bucket: ``BucketAssigner.resolve`` plus the registry's variant lookup;
- query: the feature check, the user lookup and ``ServingBundle.known_query`` (precomputed);
- search: ``ItemIndex.search`` without an exclusion selector;
- exclusion: ``Variant._excluded`` (the user's history) plus what the search with the selector
  costs over the plain search;
- response: the search result to ids / scores / tail, the response dict, ``FastJSONResponse``;
- recording: building the ``Exposure`` and ``ExposureRecorder.submit``.

What the sum leaves out of the measured request (ASGI, ServiceMiddleware, the request object,
the access log) is the framework remainder (``stage_table``).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from service.exposure.events import Exposure
from service.fast_json import FastJSONResponse
from service.schemas import RecommendRequest
from service.state import ServiceState

STAGES = ("parse", "bucket", "query", "search", "exclusion", "response", "recording")
K = 10


def _per_call_us(fn: Callable[[int], object], n: int) -> float:
    """Mean CPU µs (process time, as bench/request_cost.py) of ``fn(i)`` over ``i`` in
    ``range(n)``."""
    start = time.process_time()
    for i in range(n):
        fn(i)
    return (time.process_time() - start) / n * 1e6


async def stage_pass(state: ServiceState, users: Sequence[str], n: int) -> dict[str, float]:
    """One pass: µs per call of every stage over ``n`` requests cycling ``users``."""
    m = len(users)
    bodies = [f'{{"user_id": "{users[i % m]}", "k": {K}}}'.encode() for i in range(m)]
    reqs = [RecommendRequest.model_validate_json(b) for b in bodies]
    bucket = state.assigner.resolve(users[0], None)
    variant = state.registry.current.for_bucket(bucket)
    sb = variant.serving
    lam = variant.lambda_p
    idx = [sb.user_pos[u] for u in users]
    queries = [sb.known_query(j, lam) for j in idx]
    excluded = [variant._excluded([], j) for j in idx]
    plain = [sb.index.search(q, K) for q in queries]
    ids, is_tail = sb.bundle.item_ids, sb.bundle.is_tail

    def parse(i: int) -> object:
        return RecommendRequest.model_validate_json(bodies[i % m])

    def bucket_(i: int) -> object:
        b = state.assigner.resolve(reqs[i % m].user_id, None)
        return state.registry.current.for_bucket(b)

    def query(i: int) -> object:
        r = reqs[i % m]
        sb.features.check(dict(r.features))
        return sb.known_query(sb.user_pos[r.user_id], lam)

    def search(i: int) -> object:
        return sb.index.search(queries[i % m], K, None)

    def excluded_search(i: int) -> object:
        j = i % m
        return sb.index.search(queries[j], K, variant._excluded([], idx[j]))

    def response(i: int) -> object:
        found = plain[i % m]
        rows = found.ids.tolist()
        item_ids = tuple([ids[r] for r in rows])
        scores = tuple(found.scores.tolist())
        tail = tuple(is_tail[found.ids].tolist())
        return FastJSONResponse(
            {
                "request_id": "bench",
                "user_id": reqs[i % m].user_id,
                "bucket": bucket,
                "variant": variant.name,
                "model_version": variant.model_version,
                "cold_start": False,
                "lambda_p": lam,
                "items": [
                    {"item_id": a, "score": s, "tail": t}
                    for a, s, t in zip(item_ids, scores, tail, strict=True)
                ],
            }
        )

    shown = [
        (
            tuple([ids[r] for r in p.ids.tolist()]),
            tuple(is_tail[p.ids].tolist()),
            tuple(p.ids.tolist()),
        )
        for p in plain
    ]

    def recording(i: int) -> object:
        item_ids, tail, rows = shown[i % m]
        return state.recorder.submit(
            Exposure(bucket, "bench", item_ids, tail, state.clock(), rows, sb.catalogue_id)
        )

    out = {
        "parse": _per_call_us(parse, n),
        "bucket": _per_call_us(bucket_, n),
        "query": _per_call_us(query, n),
        "search": _per_call_us(search, n),
    }
    with_selector = _per_call_us(excluded_search, n)
    out["exclusion"] = with_selector - out["search"]
    out["excluded_items_mean"] = float(np.mean([0 if e is None else len(e) for e in excluded]))
    out["response"] = _per_call_us(response, n)
    out["recording"] = _per_call_us(recording, n)
    await state.recorder.flush(10.0)  # drain, so no pass measures the queue-full path
    await asyncio.sleep(0)
    return out


def stage_table(passes: Sequence[dict[str, float]], total_us: float) -> dict[str, Any]:
    """Median µs of each stage over ``passes``, their sum, and the share of ``total_us`` (the
    measured request) the stages leave to the framework (ASGI, middleware, request object)."""
    if not passes:
        raise ValueError("no stage passes")
    stages = {s: statistics.median(p[s] for p in passes) for s in STAGES}
    total_stages = sum(stages.values())
    return {
        "stages_us": stages,
        "sum_us": total_stages,
        "request_us": total_us,
        "framework_us": total_us - total_stages,
        "sum_share": total_stages / total_us if total_us > 0 else None,
    }
