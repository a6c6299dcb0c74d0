"""``make demo``: the embedded default end to end.

1. Offline: load the synthetic dataset, split it, evaluate the popularity and random baselines and
   print the table.
2. Train the demo MIRec bundle (``configs/demo.toml``) into ``artifacts/demo_bundle`` unless one
   is there already.
3. Start the service on port 8000 (in-memory exposure stats, or Redis when ``REDIS_URL`` is set)
   and print a working ``curl`` example. ``--no-serve`` stops after step 2.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from training.config import DataConfig, load_config
from training.evaluation.baselines import popularity_scorer, random_scorer
from training.evaluation.evaluator import evaluate
from training.protocol.prepared import prepare
from training.reporting.results import aggregate, render_markdown, results_document

DEMO_CONFIG = Path("configs/demo.toml")
DEMO_BUNDLE = Path("artifacts/demo_bundle")
SERVICE_CONFIG = Path("configs/service_demo.toml")


def offline_table() -> str:
    p = prepare(DataConfig())
    rows = []
    for name, scorer in (
        ("popularity", popularity_scorer(p.headtail)),
        ("random", random_scorer(p.dataset.n_items, seed=0)),
    ):
        rows.append(
            {"variant": name, "n_seeds": 1, **aggregate([evaluate(scorer, p.split, p.headtail)])}
        )
    doc = results_document(
        p.dataset.name, rows, fingerprint=p.fingerprint, extra={"generated_by": "make demo"}
    )
    return render_markdown(doc)


def ensure_bundle(bundle: Path = DEMO_BUNDLE, config: Path = DEMO_CONFIG) -> Path:
    if (bundle / "manifest.json").exists():
        print(f"using the existing bundle {bundle} (delete it to retrain)")
        return bundle
    from training.pipeline import train_to_bundle

    print(f"training {config} -> {bundle} (about a minute on 2 cores)")
    path = train_to_bundle(load_config(config), bundle)
    assert path is not None
    return path


def serve(port: int = 8000) -> int:
    env = {**os.environ, "LONGTAIL_CONFIG": str(SERVICE_CONFIG), "PORT": str(port)}
    stats = f"Redis at {env['REDIS_URL']}" if env.get("REDIS_URL") else "in-memory stats"
    proc = subprocess.Popen([sys.executable, "-m", "service"], env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        if proc.poll() is not None:
            return proc.returncode or 1
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.5)
    print(
        f"\nservice on {url} with {stats}. Try:\n"
        f"  curl -s -X POST {url}/recommend -H 'content-type: application/json' "
        f'-d \'{{"user_id": "u1", "k": 5}}\'\n'
        f"  curl -s {url}/stats/exposure\n(Ctrl-C stops it)\n",
        flush=True,
    )
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()


def run_demo(serve_after: bool = True) -> int:
    print(offline_table())
    ensure_bundle()
    return serve() if serve_after else 0
