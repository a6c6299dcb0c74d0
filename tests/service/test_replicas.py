"""Two replicas as a user runs them: ``python -m service.replicas P1 P2`` (real processes, real
HTTP on 127.0.0.1) on one Redis (this test's own key prefix). Counts are exact and both replicas
report the same stats; a click is matched whichever replica served the list."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from svc_helpers import free_port

REPO = Path(__file__).resolve().parents[2]


def write_config(path: Path, bundle: Path, prefix: str) -> Path:
    path.write_text(
        f'access_log = false\n[exposure]\nkey_prefix = "{prefix}"\n'
        f'[variants.base]\nbundle = "{bundle}"\n'
        f'[variants.tail]\nbundle = "{bundle}"\nlambda_p = 0.2\n'
        '[buckets.control]\nvariant = "base"\nweight = 1\n'
        '[buckets.treatment]\nvariant = "tail"\nweight = 1\n'
    )
    return path


def base_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ADMIN_TOKEN", "REPLICAS")}
    env.update(HOST="127.0.0.1", **extra)
    return env


def wait_ready(urls: list[str], proc: subprocess.Popen[bytes], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    pending = list(urls)
    while pending:
        assert proc.poll() is None, f"replicas exited with {proc.returncode}"
        assert time.monotonic() < deadline, f"not ready: {pending}"
        try:
            if httpx.get(f"{pending[0]}/readyz", timeout=2).status_code == 200:
                pending.pop(0)
                continue
        except httpx.HTTPError:
            pass
        time.sleep(0.2)


def test_two_replicas_on_one_redis_count_exactly(
    tmp_path: Path, mirec_bundle: Path, redis_url: str, redis_prefix: str
) -> None:
    ports = [free_port(), free_port()]
    while ports[1] == ports[0]:
        ports[1] = free_port()
    urls = [f"http://127.0.0.1:{p}" for p in ports]
    config = write_config(tmp_path / "replicas.toml", mirec_bundle, redis_prefix)
    proc = subprocess.Popen(
        [sys.executable, "-m", "service.replicas", *map(str, ports)],
        cwd=REPO,
        env=base_env(LONGTAIL_CONFIG=str(config), REDIS_URL=redis_url),
    )
    try:
        wait_ready(urls, proc)
        n, k = 300, 7
        served: list[tuple[str, dict]] = []  # (url that served it, response body)
        with httpx.Client(timeout=10) as client:
            for i in range(n):
                url = urls[i % 2]
                user = f"u{i % 80}"  # 60 known users, 20 cold-start ones
                r = client.post(f"{url}/recommend", json={"user_id": user, "k": k})
                assert r.status_code == 200, r.text
                served.append((url, r.json()))
            expected: dict[str, dict[str, int]] = {}
            for _, body in served:
                e = expected.setdefault(body["bucket"], {"requests": 0, "tail": 0, "head": 0})
                e["requests"] += 1
                tails = sum(item["tail"] for item in body["items"])
                e["tail"] += tails
                e["head"] += len(body["items"]) - tails
            # A click on the other replica than the one that served the list: shown lists are
            # shared through Redis. The same click again, on the first replica: a duplicate.
            url, body = served[0]
            other = urls[1] if url == urls[0] else urls[0]
            item = body["items"][0]
            click = {"request_id": body["request_id"], "item_id": item["item_id"], "event": "click"}
            first = client.post(f"{other}/feedback", json=click)
            assert first.status_code == 200 and first.json()["outcome"] == "counted", first.text
            assert client.post(f"{url}/feedback", json=click).json()["outcome"] == "duplicate"
            # Recording is asynchronous: wait until every list is in Redis (both replicas).
            deadline = time.monotonic() + 30
            while True:
                # The buckets (the header's from/to are each call's own clock).
                stats = [client.get(f"{u}/stats/exposure").json()["buckets"] for u in urls]
                total = sum(b["requests"] for b in stats[0].values())
                if total >= n or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            ab = [client.get(f"{u}/stats/ab").json()["buckets"] for u in urls]
    finally:
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=30)
    assert rc == 0
    assert stats[0] == stats[1]  # identical views of one store
    assert ab[0] == ab[1]
    got = {
        b: {"requests": s["requests"], "tail": s["tail_impressions"], "head": s["head_impressions"]}
        for b, s in stats[0].items()
    }
    assert got == expected
    assert sum(s["impressions"] for s in stats[0].values()) == n * k
    clicked = ab[0][body["bucket"]]
    assert clicked["overall"]["clicks"] == 1
    assert clicked["tail" if item["tail"] else "head"]["clicks"] == 1


def test_more_than_one_replica_refuses_the_memory_store(tmp_path: Path, mirec_bundle: Path) -> None:
    config = write_config(tmp_path / "memory.toml", mirec_bundle, "unused")
    out = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=REPO,
        env=base_env(LONGTAIL_CONFIG=str(config), REPLICAS="2", PORT=str(free_port())),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert "replicas: 2 processes need a shared exposure store" in out.stderr
    assert "REDIS_URL" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("argv", "message"),
    [([], "usage"), (["80x"], "port '80x'"), (["8001", "8001"], "given twice")],
)
def test_the_launcher_refuses_bad_ports(argv: list[str], message: str) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "service.replicas", *argv],
        cwd=REPO,
        env=base_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2 and out.stderr.startswith("error: ") and message in out.stderr
