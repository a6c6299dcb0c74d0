"""Regenerate ``docs/img/dashboard.png`` (``make dashboard-screenshot``).

1. Trains the small MIRec bundle that ``configs/service_dashboard.toml`` names, if it is missing
   (``python -m training train --config configs/tiny.toml --set model.kind=mirec``, seconds).
2. Starts the service in this process on that config, with the in-memory store and a simulated
   clock, so that forty minutes of traffic take seconds and the time-bucketed charts have
   history. Only the clock is simulated: the requests are real HTTP to the real app.
3. Sends the traffic: known users of the bundle, bucketed by the service's own hash over the three
   buckets, and clicks drawn from a simple, seeded click model (a click is likelier near the top
   of a list, and on head items than on tail items). The click-through numbers are therefore
   synthetic; the exposure numbers are what the three blends really serve.
4. Opens ``/dashboard`` in headless Chromium (Debian's ``chromium`` + ``chromium-driver``,
   Selenium) and saves a full-page screenshot.

    python scripts/dashboard_screenshot.py [--out docs/img/dashboard.png] [--minutes 40]
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import uvicorn

from common.ports import free_port
from common.toml_file import read_toml
from service.app import create_app
from service.settings import ServiceSettings, SettingsError, settings_from_dict

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CLICK_HEAD, CLICK_TAIL, RANK_DECAY = 0.10, 0.07, 0.25  # P(click) at rank 0, and its decay


class SimClock:
    """The service's clock; the traffic loop moves it forward a minute at a time."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def load_config(path: Path) -> ServiceSettings:
    # Not load_settings(): the environment (REDIS_URL …) must not change what the picture shows.
    raw = read_toml(path, SettingsError, what="service config file")
    raw.update(config_path=str(path), access_log=False, log_level="warning")
    return settings_from_dict(raw, str(path))


def ensure_bundles(settings: ServiceSettings) -> None:
    for bundle in {v.bundle for v in settings.variants.values()}:
        if (bundle / "manifest.json").is_file():
            continue
        print(f"training {bundle} (configs/tiny.toml, MIRec)", flush=True)
        subprocess.run(
            [sys.executable, "-m", "training", "train", "--config", "configs/tiny.toml",
             "--set", "model.kind=mirec", "--out", str(bundle)],
            check=True,
            cwd=ROOT,
        )


def known_users(settings: ServiceSettings) -> list[str]:
    bundle = next(iter(settings.variants.values())).bundle
    with np.load(bundle / "user_features.npz", allow_pickle=False) as z:
        return [str(u) for u in z["user_ids"]]


@contextmanager
def serve(settings: ServiceSettings, clock: SimClock) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, clock=clock), host="127.0.0.1", port=port,
                       log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the service did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def send_traffic(url: str, clock: SimClock, users: list[str], minutes: int, seed: int) -> None:
    rng = random.Random(seed)
    start = math.floor(time.time() / 60) * 60 - minutes * 60
    with httpx.Client(base_url=url, timeout=30) as client:
        for m in range(minutes):
            # A slow swell of load, so the request counts per minute are not flat.
            n = int(45 + 20 * math.sin(m / 6))
            for i in range(n):
                clock.now = start + m * 60 + 60 * i / n
                r = client.post("/recommend", json={"user_id": rng.choice(users), "k": 10})
                r.raise_for_status()
                body = r.json()
                for rank, item in enumerate(body["items"]):
                    p = (CLICK_TAIL if item["tail"] else CLICK_HEAD) / (1 + RANK_DECAY * rank)
                    if rng.random() < p:
                        client.post(
                            "/feedback",
                            json={"request_id": body["request_id"], "item_id": item["item_id"]},
                        ).raise_for_status()
        clock.now = start + minutes * 60


def chromium() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage", "--hide-scrollbars",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='ltr-chromium-')}"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def screenshot(url: str, out: Path, width: int) -> None:
    from selenium.webdriver.support.ui import WebDriverWait

    driver = chromium()
    try:
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
        )
        driver.get(f"{url}/dashboard?refresh=60")
        WebDriverWait(driver, 30).until(
            lambda d: d.execute_script("return document.body.dataset.refreshes === '1'")
        )
        height = int(driver.execute_script("return document.documentElement.scrollHeight"))
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
        out.parent.mkdir(parents=True, exist_ok=True)
        if not driver.save_screenshot(str(out)):
            raise RuntimeError(f"could not write {out}")
    finally:
        profile = driver.capabilities.get("chrome", {}).get("userDataDir")
        driver.quit()
        if profile:
            shutil.rmtree(profile, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--config", type=Path, default=Path("configs/service_dashboard.toml"))
    p.add_argument("--out", type=Path, default=Path("docs/img/dashboard.png"))
    p.add_argument("--minutes", type=int, default=40, help="simulated minutes of traffic")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=1400, help="browser width in CSS pixels")
    args = p.parse_args(argv)
    config, out = args.config.resolve(), args.out.resolve()
    os.chdir(ROOT)  # the config's bundle paths are relative to the repository root
    settings = load_config(config)
    if len(settings.buckets) != 3:
        print(f"note: {config} has {len(settings.buckets)} buckets", file=sys.stderr)
    ensure_bundles(settings)
    clock = SimClock(time.time())
    with serve(settings, clock) as url:
        send_traffic(url, clock, known_users(settings), args.minutes, args.seed)
        stats = httpx.get(f"{url}/stats/exposure", timeout=30).json()["buckets"]
        for name, b in stats.items():
            print(f"{name:>10}: {b['requests']} requests, tail share {b['tail_share']:.3f}, "
                  f"coverage {b['coverage']:.3f}, Gini {b['gini']:.3f}")
        screenshot(url, out, args.width)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
