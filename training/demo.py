"""``make demo``: the embedded default end to end.

1. Check that the service's port is free (before any work: a busy port is ``error: port N is in
   use``, exit 2, in a second rather than after the training).
2. Train the demo MIRec bundle (``configs/demo.toml``, a 2,000-user synthetic catalogue: seconds
   on 2 cores) into ``artifacts/demo_bundle`` unless one trained with the same config is there.
3. Print the popularity and random baselines and the demo model on the same split, through the
   same full-ranking evaluator (the model's HR@50 against popularity's).
4. Start the service on ``--port`` (``PORT``, default 8000; in-memory exposure stats, or Redis when
   ``REDIS_URL`` is set) and, once the child process itself answers on that port, print the time
   since the start and a working ``curl`` example. ``--no-serve`` stops after step 3.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from common.ports import PortInUse, check_free, owned_by
from models.bundle import BundleError, load_bundle
from training.config import ConfigError, RunConfig, load_config
from training.evaluation.baselines import popularity_scorer, random_scorer
from training.evaluation.evaluator import EvalResult, evaluate
from training.evaluation.scorers import embedding_scorer
from training.evaluation.user_vectors import bundle_user_vectors
from training.protocol.prepared import Prepared, prepare
from training.reporting.results import aggregate, render_markdown, results_document

DEMO_CONFIG = Path("configs/demo.toml")
DEMO_BUNDLE = Path("artifacts/demo_bundle")
SERVICE_CONFIG = Path("configs/service_demo.toml")
HOST = "127.0.0.1"
READY_TIMEOUT_S = 120.0  # the service loads torch, FAISS and the bundle before it answers


def _model_result(bundle_dir: Path, p: Prepared, cfg: RunConfig) -> EvalResult:
    """The bundle's test metrics, recomputed from its files on ``p``'s split."""
    bundle = load_bundle(bundle_dir)
    return evaluate(
        embedding_scorer(bundle_user_vectors(bundle), bundle.embeddings),
        p.split,
        p.headtail,
        ks=tuple(cfg.eval.ks),
        batch_size=cfg.eval.batch_size,
    )


def results_table(p: Prepared, cfg: RunConfig, bundle_dir: Path) -> str:
    """Popularity, random and the demo model on the demo data's test split, as Markdown."""
    pop = evaluate(popularity_scorer(p.headtail), p.split, p.headtail)
    model = _model_result(bundle_dir, p, cfg)
    rows = []
    for name, result in (
        ("popularity", pop),
        ("random", evaluate(random_scorer(p.dataset.n_items, seed=0), p.split, p.headtail)),
        (f"demo model ({cfg.model.kind})", model),
    ):
        rows.append({"variant": name, "n_seeds": 1, **aggregate([result])})
    doc = results_document(
        p.dataset.name, rows, fingerprint=p.fingerprint, extra={"generated_by": "make demo"}
    )
    return f"{render_markdown(doc)}\n{headline(model, pop)}"


def headline(model: EvalResult, pop: EvalResult) -> str:
    """One line: the demo model's test HR@50 (all users, tail users) against popularity's."""
    m, b = model.metrics, pop.metrics
    verdict = "beats" if m["all"]["HR@50"] > b["all"]["HR@50"] else "does NOT beat"
    return (
        f"demo model test HR@50 {100 * m['all']['HR@50']:.1f} % vs popularity "
        f"{100 * b['all']['HR@50']:.1f} % (tail items: {100 * m['tail']['HR@50']:.1f} % vs "
        f"{100 * b['tail']['HR@50']:.1f} %): the model {verdict} popularity"
    )


def _same_training(bundle: Path, cfg: RunConfig, p: Prepared) -> str | None:
    """None when ``bundle`` was trained with ``cfg`` on ``p``'s data, else why not."""
    try:
        manifest = json.loads((bundle / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        return f"its manifest cannot be read ({type(e).__name__})"
    if manifest.get("fingerprint") != p.fingerprint:
        return "it was trained on other data"
    saved = dict(manifest.get("config") or {})
    want = cfg.to_dict()
    for d in (saved, want):  # cosmetic: progress output does not change the model
        d.get("train", {}).pop("progress", None)
    if saved != want:
        return "it was trained with another config"
    return None


def ensure_bundle(cfg: RunConfig, p: Prepared, bundle: Path = DEMO_BUNDLE) -> Path:
    if (bundle / "manifest.json").exists():
        why = _same_training(bundle, cfg, p)
        if why is None:
            print(f"using the existing bundle {bundle} (delete it to retrain)", flush=True)
            return bundle
        print(f"retraining {bundle}: {why}", flush=True)
    from training.pipeline import train_to_bundle

    print(f"training the demo {cfg.model.kind} model -> {bundle}", flush=True)
    path = train_to_bundle(cfg, bundle)
    if path is None:  # only a non-main DDP rank gets None; the demo runs one process
        raise BundleError(f"bundle {bundle}: training wrote no bundle")
    return path


def _wait_ready(proc: subprocess.Popen[bytes], url: str, port: int) -> str | None:
    """None once ``proc`` itself answers ``/healthz`` on ``port``; else why it does not."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"the service exited with status {proc.returncode} before it answered"
        try:
            ok = httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            ok = False
        if ok:
            if proc.poll() is not None:
                return f"the service exited with status {proc.returncode}"
            # Someone answered: make sure it is our child and not a server that took the port
            # meanwhile (None: not Linux, no /proc; the child being alive is then all we know).
            if owned_by(proc.pid, port) is False:
                return f"port {port} is answered by another process, not the service started"
            return None
        time.sleep(0.25)
    return f"the service did not answer within {READY_TIMEOUT_S:.0f} s"


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(port: int, started: float) -> int:
    try:
        check_free(HOST, port)  # again: training took a while
    except PortInUse:
        print(f"error: port {port} is in use", file=sys.stderr)
        return 2
    env = {**os.environ, "LONGTAIL_CONFIG": str(SERVICE_CONFIG), "HOST": HOST, "PORT": str(port)}
    stats = f"Redis at {env['REDIS_URL']}" if env.get("REDIS_URL") else "in-memory stats"
    proc = subprocess.Popen([sys.executable, "-m", "service"], env=env)
    # `kill PID` (SIGTERM) stops the child too, as Ctrl-C does (SIGINT is ignored in a
    # background job of a non-interactive shell, so scripts stop the demo with SIGTERM).
    signal.signal(signal.SIGTERM, _interrupt)
    url = f"http://{HOST}:{port}"
    try:
        problem = _wait_ready(proc, url, port)
        if problem is not None:
            print(f"error: {problem}", file=sys.stderr)
            if proc.poll() is None:
                proc.terminate()
                proc.wait()
            return 2
        print(
            f"\nservice on {url} with {stats}, answering {time.monotonic() - started:.0f} s after "
            f"`make demo` started. Try:\n"
            f"  curl -s -X POST {url}/recommend -H 'content-type: application/json' "
            f'-d \'{{"user_id": "u1", "k": 5}}\'\n'
            f"  curl -s {url}/stats/exposure\n(Ctrl-C stops it)\n",
            flush=True,
        )
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        return proc.wait()


def run_demo(
    port: int,
    serve_after: bool = True,
    config: Path = DEMO_CONFIG,
    overrides: list[str] | None = None,
    bundle: Path = DEMO_BUNDLE,
) -> int:
    started = time.monotonic()
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port / PORT must be in 1..65535, got {port}")
    if serve_after:
        try:
            check_free(HOST, port)
        except PortInUse:
            print(
                f"error: port {port} is in use (choose another: make demo PORT=…)", file=sys.stderr
            )
            return 2
    cfg = load_config(config, overrides)
    p = prepare(cfg.data)
    ensure_bundle(cfg, p, bundle)
    t = time.monotonic() - started
    print(
        f"\n{results_table(p, cfg, bundle)}\n(data, training and evaluation: {t:.0f} s)", flush=True
    )
    return serve(port, started) if serve_after else 0
