"""``python -m service`` as a user runs it: settings from the environment, a clean refusal on a
bad bundle or config, and a real server otherwise."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from svc_helpers import free_port

REPO = Path(__file__).resolve().parents[2]


def env_for(config: Path, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "ADMIN_TOKEN")}
    env.update(LONGTAIL_CONFIG=str(config), PORT=str(port), HOST="127.0.0.1")
    return env


def write_config(path: Path, bundle: Path) -> Path:
    path.write_text(
        f'[variants.main]\nbundle = "{bundle}"\n[buckets.control]\nvariant = "main"\nweight = 1\n'
    )
    return path


def test_serves_from_environment_settings(tmp_path: Path, mirec_bundle: Path) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "service"],
        cwd=REPO,
        env=env_for(write_config(tmp_path / "s.toml", mirec_bundle), port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            assert time.monotonic() < deadline
            time.sleep(0.1)
        r = httpx.post(f"http://127.0.0.1:{port}/recommend", json={"user_id": "u1", "k": 3})
        assert r.status_code == 200 and r.json()["variant"] == "main"
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    # uvicorn shuts down gracefully, then re-raises the signal: exit status -SIGTERM.
    assert proc.returncode in (0, -signal.SIGTERM), out
    assert "Application shutdown complete" in out
    # The access log is JSON with the request id.
    lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert any(line.get("request_id") == r.json()["request_id"] for line in lines), out


def test_refuses_to_start_on_a_corrupt_bundle_naming_the_file(
    tmp_path: Path, mirec_bundle: Path
) -> None:
    bad = tmp_path / "bad_bundle"
    shutil.copytree(mirec_bundle, bad)
    (bad / "weights.safetensors").write_bytes(b"not weights")
    proc = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=env_for(write_config(tmp_path / "s.toml", bad), free_port()),
    )
    assert proc.returncode != 0
    assert "refusing to start" in proc.stderr
    assert str(bad) in proc.stderr and "weights.safetensors" in proc.stderr


def test_bad_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text('[buckets.treatment]\nvariant = "default"\nweight = 1\n')
    proc = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env=env_for(cfg, free_port()),
    )
    assert proc.returncode == 2
    assert str(cfg) in proc.stderr and "control" in proc.stderr
