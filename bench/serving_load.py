"""Load from a separate process: ``wrk`` with a Lua POST script (Debian: ``apt-get install wrk``),
or, where wrk is missing, an asyncio httpx client in a subprocess. Both cycle through the given
user ids with ``{"user_id": ..., "k": K}`` bodies and report requests/s, p50 and p99 (ms)."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

_POST = """
local headers = {["Content-Type"] = "application/json"}
request = function()
  i = i + 1
  local body = '{"user_id":"' .. users[(i %% #users) + 1] .. '","k":%(k)d}'
  return wrk.format("POST", "/recommend", headers, body)
end
"""
# A GET peer's request: PREFIX .. user .. SUFFIX (e.g. Cornac's /recommend?uid=...&k=10).
_GET = """
request = function()
  i = i + 1
  return wrk.format("GET", "%(prefix)s" .. users[(i %% #users) + 1] .. "%(suffix)s")
end
"""
_LUA = """
local users = {%(users)s}
local i = 0
%(request)s
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON{"requests":%%d,"duration_us":%%d,"p50_us":%%d,"p99_us":%%d,"non2xx":%%d,' ..
    '"socket_errors":%%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""


def run_wrk(
    url: str,
    users: list[str],
    k: int,
    connections: int,
    seconds: float,
    get: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """``get``: (prefix, suffix) of a GET path around the user id, instead of this service's
    POST body."""
    request = _POST % {"k": k} if get is None else _GET % {"prefix": get[0], "suffix": get[1]}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(_LUA % {"users": ",".join(json.dumps(u) for u in users), "request": request})
        script = fh.name
    try:
        out = subprocess.run(
            [
                "wrk",
                "-t1",
                f"-c{connections}",
                f"-d{max(1, round(seconds))}s",
                "--timeout",
                "10s",
                "-s",
                script,
                url,
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        Path(script).unlink(missing_ok=True)
    raw = json.loads(out.split("WRKJSON", 1)[1].splitlines()[0])
    return {
        "tool": "wrk",
        "connections": connections,
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "errors": raw["non2xx"] + raw["socket_errors"],
    }


async def _httpx_load(
    url: str, users: list[str], k: int, connections: int, seconds: float
) -> dict[str, Any]:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    counter = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors, counter
        while time.perf_counter() < deadline:
            counter += 1
            body = {"user_id": users[counter % len(users)], "k": k}
            t = time.perf_counter()
            r = await client.post("/recommend", json=body)
            latencies.append(time.perf_counter() - t)
            errors += r.status_code != 200

    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    start = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        await asyncio.gather(*(worker(client) for _ in range(connections)))
    elapsed = time.perf_counter() - start
    latencies.sort()

    def pct(p: float) -> float:
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000

    return {
        "tool": "httpx",
        "connections": connections,
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": pct(0.5),
        "p99_ms": pct(0.99),
        "errors": errors,
    }


def run_load(
    url: str, users: list[str], k: int, connections: int, seconds: float
) -> dict[str, Any]:
    if shutil.which("wrk"):
        return run_wrk(url, users, k, connections, seconds)
    # A separate process, so the client never shares the server's event loop or GIL.
    out = subprocess.run(
        [sys.executable, __file__, url, json.dumps(users), str(k), str(connections), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out)


if __name__ == "__main__":
    u, us, kk, c, s = sys.argv[1:6]
    print(json.dumps(asyncio.run(_httpx_load(u, json.loads(us), int(kk), int(c), float(s)))))
