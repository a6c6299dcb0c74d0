"""End to end in headless Chromium: the service on a small bundle with the in-memory store, traffic
and clicks into two buckets, then ``/dashboard`` read back in a real browser and compared number
by number with ``/stats/exposure`` and ``/stats/ab``. A screenshot is kept as a test artifact
(``$TEST_ARTIFACTS``, default ``artifacts/test/``).

The browser is Debian's ``chromium`` driven through ``chromium-driver`` with Selenium (``make
test`` installs both). With ``CI=true`` a missing browser fails the test; locally it skips.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
import pytest
from svc_helpers import LiveServer, live, service_settings

from service.app import create_app
from service.exposure.events import BucketWindow
from service.exposure.memory import MemoryExposureStore
from service.exposure.store import StoreUnavailable

CHROMIUM = Path(os.environ.get("CHROMIUM_BINARY", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
ARTIFACTS = Path(
    os.environ.get("TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "artifacts" / "test")
)
T0 = 1_700_000_040.0  # start of a 60 s time bucket: the simulated clock starts here
BUCKETS = ("control", "treatment")
SLICES = ("overall", "head", "tail")
EXPOSURE_FIELDS = {  # field -> how the page formats it (service/static/format.js)
    "requests": "count",
    "impressions": "count",
    "head_impressions": "count",
    "tail_impressions": "count",
    "distinct_items": "count",
    "catalogue_size": "count",
    "tail_share": "pct",
    "coverage": "pct",
    "gini": "fixed3",
}
AB_FIELDS = {"impressions": "count", "clicks": "count", "ctr": "pct"}
VS_FIELDS = {"diff": "pp", "z": "fixed2", "p_value": "p"}


class SimClock:
    """The service's clock, moved by the test so traffic spans several 60 s time buckets."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class FlakyStore(MemoryExposureStore):
    """The in-memory store, whose reads can be made to fail like an unreachable Redis."""

    fail_reads = False

    async def read(
        self, buckets: Sequence[str], start: float, end: float
    ) -> dict[str, BucketWindow]:
        if self.fail_reads:
            raise StoreUnavailable("simulated outage")
        return await super().read(buckets, start, end)


def _browser_problem() -> str | None:
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return f"{path} not found (make test installs Debian's chromium and chromium-driver)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    problem = _browser_problem()
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem}; with CI=true the browser test must run")
        pytest.skip(problem)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="ltr-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    # Without the background-networking flags Chromium's own update/sync connections are refused
    # by a closed network and slow every start; --no-sandbox because CI runs as root.
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1400,1000",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def clock() -> SimClock:
    return SimClock(T0)


@pytest.fixture(scope="module")
def store() -> FlakyStore:
    return FlakyStore()


@pytest.fixture(scope="module")
def server(mirec_bundle: Path, clock: SimClock, store: FlakyStore) -> Iterator[LiveServer]:
    settings = service_settings(mirec_bundle, access_log=False)
    with live(create_app(settings, store=store, clock=clock)) as s:
        yield s


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def send_round(client: httpx.Client, clock: SimClock, r: int, users: int = 24) -> None:
    """One minute of traffic: every user into both buckets in turn, and a few clicks each."""
    clock.now = T0 + 60 * r + 5
    for i in range(users):
        bucket = BUCKETS[(i + r) % 2]
        resp = client.post(
            "/recommend", json={"user_id": f"u{i}", "k": 10}, headers={"X-AB-Bucket": bucket}
        )
        assert resp.status_code == 200, resp.text
        body = resp.json()
        for pos, item in enumerate(body["items"]):
            if (i * 3 + pos + r) % 4 == 0:  # deterministic clicks, ~1 in 4 shown items
                fb = client.post(
                    "/feedback", json={"request_id": body["request_id"], "item_id": item["item_id"]}
                )
                assert fb.status_code == 200, fb.text


# Everything the page shows, read in one script so it cannot straddle a re-render.
READ_PAGE = """
const out = {};
for (const card of document.querySelectorAll('article.bucket')) {
  const fields = {};
  for (const node of card.querySelectorAll('[data-field]')) {
    fields[node.dataset.field] = [node.textContent, JSON.parse(node.dataset.value)];
  }
  const series = [...card.querySelectorAll('svg.series circle.point')].map(
    (c) => [Number(c.dataset.t), JSON.parse(c.dataset.value)]);
  const curve = card.querySelector('svg.lorenz path.curve');
  const bars = Object.fromEntries([...card.querySelectorAll('svg.ctr rect.bar')].map(
    (b) => [b.dataset.slice, JSON.parse(b.dataset.value)]));
  const labels = Object.fromEntries([...card.querySelectorAll('svg.ctr text.bar-label')].map(
    (t) => [t.dataset.slice, [t.textContent, JSON.parse(t.dataset.value)]]));
  const colour = [...card.classList].find((c) => /^bucket-[0-9]+$/.test(c));
  out[card.dataset.bucket] = {
    fields, series, bars, labels, colour, lorenz: curve ? JSON.parse(curve.dataset.points) : null,
    visible: card.getBoundingClientRect().height > 0,
  };
}
// The shared chart: one line per bucket, its colour class, and a legend entry with that colour.
const compare = document.querySelector('#compare svg.chart.compare');
const lines = compare ? [...compare.querySelectorAll('path.bucket-series')].map((p) => ({
  bucket: p.dataset.bucket, points: JSON.parse(p.dataset.points),
  colour: [...p.classList].find((c) => /^bucket-[0-9]+$/.test(c)),
  stroke: getComputedStyle(p).stroke,
})) : null;
const legend = [...document.querySelectorAll('#compare .legend .swatch')].map((n) => ({
  bucket: n.dataset.bucket, colour: [...n.classList].find((c) => /^bucket-[0-9]+$/.test(c)),
  fill: getComputedStyle(n).backgroundColor,
}));
const ticks = compare ? [...compare.querySelectorAll('text.tick[data-value]')].map(
  (n) => [n.textContent, Number(n.dataset.value)]) : null;
return { cards: out, compare: { lines, legend, ticks } };
"""


def parse_shown(text: str, fmt: str) -> float | None:
    """Read back a number as the page formats it; None for the dash shown for null."""
    if text == "\u2014":
        return None
    if fmt == "count":
        return int(text)
    if fmt == "pct":
        assert text.endswith("%"), text
        return float(text[:-1]) / 100
    if fmt == "pp":
        assert text.endswith(" pp"), text
        return float(text[:-3].replace("\u2212", "-")) / 100
    if fmt == "p" and text == "<0.0001":
        return 0.0
    return float(text)


# Half a unit in the last shown digit, plus float slack: the text must round to the API's value.
TOLERANCE = {
    "count": 0,
    "pct": 0.5e-4,
    "pp": 0.5e-4,
    "fixed3": 0.5e-3,
    "fixed2": 0.5e-2,
    "p": 0.5e-4,
}


def check_number(where: str, shown: list[Any], expected: Any, fmt: str) -> None:
    text, value = shown
    assert value == expected, f"{where}: data-value {value!r} != API {expected!r}"
    parsed = parse_shown(text, fmt)
    if expected is None:
        assert parsed is None, f"{where}: shows {text!r} for null"
        return
    assert parsed is not None, f"{where}: shows a dash for {expected!r}"
    if fmt == "p" and text == "<0.0001":
        assert expected < 1e-4, f"{where}: shows {text!r} for {expected!r}"
        return
    assert math.isclose(parsed, expected, rel_tol=0, abs_tol=TOLERANCE[fmt] + 1e-12), (
        f"{where}: shows {text!r}, API has {expected!r}"
    )


def assert_page_matches(
    shown: dict[str, Any], exposure: dict[str, Any], ab: dict[str, Any]
) -> None:
    page = shown["cards"]
    assert set(page) == set(exposure["buckets"]) == set(BUCKETS)
    assert_compare_matches(shown["compare"], page, exposure)
    for bucket, exp in exposure["buckets"].items():
        card = page[bucket]
        assert card["visible"], f"{bucket}: card not laid out"
        fields = card["fields"]
        assert fields["variant"] == [exp["variant"], exp["variant"]]
        for field, fmt in EXPOSURE_FIELDS.items():
            check_number(f"{bucket}.{field}", fields[field], exp[field], fmt)
        assert card["series"] == [[p["t"], p["tail_share"]] for p in exp["series"]]
        assert card["lorenz"] == exp["lorenz"]
        ab_bucket = ab["buckets"][bucket]
        for s in SLICES:
            for field, fmt in AB_FIELDS.items():
                check_number(
                    f"{bucket}.{field}.{s}", fields[f"{field}.{s}"], ab_bucket[s][field], fmt
                )
            assert card["bars"][s] == ab_bucket[s]["ctr"]
            text, value = card["labels"][s]  # every bar carries its value as a label
            assert value == ab_bucket[s]["ctr"], (bucket, s, card["labels"][s])
            assert value is not None and text.endswith("%"), (bucket, s, text)
            assert math.isclose(float(text[:-1]) / 100, value, abs_tol=0.5e-3 + 1e-12), (
                text,
                value,
            )
            vs = ab_bucket.get("vs_control")
            if vs is None:
                assert f"diff.{s}" not in fields  # control is not compared with itself
                continue
            for field, fmt in VS_FIELDS.items():
                check_number(f"{bucket}.{field}.{s}", fields[f"{field}.{s}"], vs[s][field], fmt)
            p = vs[s]["p_value"]
            significant = None if p is None else p < 0.05
            assert fields[f"significant.{s}"] == ["*" if significant else "", significant]


def assert_compare_matches(
    compare: dict[str, Any], cards: dict[str, Any], exposure: dict[str, Any]
) -> None:
    """The shared chart: one line per configured bucket, in that bucket's colour, with a legend."""
    lines = compare["lines"]
    assert lines is not None, "no shared tail-share chart"
    assert [line["bucket"] for line in lines] == list(exposure["buckets"]) == list(BUCKETS)
    for line in lines:
        series = exposure["buckets"][line["bucket"]]["series"]
        assert line["points"] == [
            [p["t"], p["tail_share"]] for p in series if p["tail_share"] is not None
        ]
        assert line["colour"] == cards[line["bucket"]]["colour"], line
    strokes = [line["stroke"] for line in lines]
    assert len(set(strokes)) == len(strokes), strokes  # the buckets are told apart
    legend = compare["legend"]
    assert [(e["bucket"], e["colour"]) for e in legend] == [
        (line["bucket"], line["colour"]) for line in lines
    ]
    assert [e["fill"] for e in legend] == strokes  # the legend's swatch is the line's colour
    ticks = compare["ticks"]
    assert len(ticks) == 5 and ticks[0] == ["0%", 0], ticks
    for text, value in ticks:
        assert math.isclose(float(text[:-1]) / 100, value, abs_tol=1e-9), (text, value)


# ctrChart on its own, with an empty bar (no clicks: CTR 0) and a slice without impressions.
EMPTY_BAR = """
const done = arguments[arguments.length - 1];
import(new URL('dashboard/static/charts.js', document.baseURI).href).then((m) => {
  const svg = m.ctrChart([
    { name: 'overall', ctr: 0.05, control: null },
    { name: 'head', ctr: 0.1, control: null },
    { name: 'tail', ctr: 0, control: null },
  ], 0.2);
  done([...svg.querySelectorAll('text.bar-label')].map(
    (t) => [t.dataset.slice, t.textContent, JSON.parse(t.dataset.value)]));
}, (e) => done(String(e)));
"""


def stats(client: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    exposure = client.get("/stats/exposure", params={"lorenz_points": 51})
    ab = client.get("/stats/ab")
    assert exposure.status_code == ab.status_code == 200
    return exposure.json(), ab.json()


def wait_for(browser: Any, script: str, timeout_s: float = 20.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, timeout_s, poll_frequency=0.1).until(
        lambda d: d.execute_script(script)
    )


def save_full_page(browser: Any, path: Path, width: int = 1400) -> None:
    """The whole page in one PNG: the viewport is stretched to the document's height first."""
    height = int(browser.execute_script("return document.documentElement.scrollHeight"))
    metrics = {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", metrics)
    try:
        assert browser.save_screenshot(str(path))
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_dashboard_shows_what_stats_exposure_says(
    browser: Any, server: LiveServer, client: httpx.Client, clock: SimClock, store: FlakyStore
) -> None:
    for r in range(4):
        send_round(client, clock, r)
    exposure, ab = stats(client)
    for bucket in BUCKETS:  # the traffic exercises every number the page shows
        e, a = exposure["buckets"][bucket], ab["buckets"][bucket]
        assert e["requests"] == 48 and len(e["series"]) == 4
        assert e["head_impressions"] > 0 and e["tail_impressions"] > 0
        assert a["head"]["clicks"] > 0 and a["tail"]["clicks"] > 0

    browser.get(f"{server.url}/dashboard?refresh=1")
    wait_for(browser, "return Number(document.body.dataset.refreshes || 0) >= 1")
    assert browser.find_element("id", "status").get_attribute("data-state") == "ok"
    assert_page_matches(browser.execute_script(READ_PAGE), exposure, ab)

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "dashboard_browser.png"
    save_full_page(browser, shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    # Self-contained: every resource came from the service itself, and the console stayed clean
    # (a CSP violation, a failed fetch or a script error would be logged as SEVERE).
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map((e) => e.name)"
    )
    assert resources and all(u.startswith(server.url + "/") for u in resources), resources
    severe = [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert not severe, severe

    # It refreshes by itself: a new minute of traffic shows up without a reload.
    send_round(client, clock, 4)
    exposure, ab = stats(client)
    want = exposure["buckets"]["control"]["requests"]
    wait_for(
        browser,
        "const n = document.querySelector('[data-bucket=control] [data-field=requests]');"
        f"return n && JSON.parse(n.dataset.value) === {want};",
    )
    assert_page_matches(browser.execute_script(READ_PAGE), exposure, ab)

    # A failing store is reported on the page, and the last good numbers stay on screen.
    store.fail_reads = True
    try:
        wait_for(browser, "return document.getElementById('status').dataset.state === 'error'")
        status = browser.find_element("id", "status").text
        assert "503" in status and "exposure store unavailable" in status
        assert_page_matches(browser.execute_script(READ_PAGE), exposure, ab)
    finally:
        store.fail_reads = False
    wait_for(browser, "return document.getElementById('status').dataset.state === 'ok'")

    # Layout (issue 13 item 9): charts of both cards at the same height, the width used, tick
    # labels that are their exact values, a label on every bar (0 too).
    layout = browser.execute_script(LAYOUT)
    for kind, tops in layout["tops"].items():
        assert len(tops) == 2 and max(tops) - min(tops) <= 1, (kind, tops)
    assert layout["used"] >= 0.9 * layout["main"], layout
    for text, value in layout["ticks"]:
        assert text.endswith("%") and math.isclose(float(text[:-1]) / 100, value, abs_tol=1e-9), (
            text,
            value,
        )

    # An empty bar (CTR 0) still shows its value: "0%", not nothing.
    labels = browser.execute_async_script(EMPTY_BAR)
    assert labels == [["overall", "5.0%", 0.05], ["head", "10.0%", 0.1], ["tail", "0%", 0]], labels

    # Store down on the first load: the banner does not promise numbers the page never had.
    store.fail_reads = True
    try:
        browser.get(f"{server.url}/dashboard?refresh=1")
        wait_for(browser, "return document.getElementById('status').dataset.state === 'error'")
        status = browser.find_element("id", "status").text
        assert "no numbers to show yet" in status and "last good" not in status
        assert "simulated outage" not in status  # the store's detail stays in the server log
    finally:
        store.fail_reads = False


LAYOUT = """
const tops = {};
for (const kind of ['series', 'lorenz', 'ctr']) {
  tops[kind] = [...document.querySelectorAll(`article.bucket svg.chart.${kind}`)]
    .map((n) => n.getBoundingClientRect().top);
}
const main = document.getElementById('buckets');
const style = getComputedStyle(main);
const inner = main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
const cards = [...document.querySelectorAll('article.bucket')]
  .map((n) => n.getBoundingClientRect());
const gaps = parseFloat(style.columnGap) * (cards.length - 1);
const used = cards.reduce((a, r) => a + r.width, 0) + gaps;
const ticks = [...document.querySelectorAll('svg.chart.series text.tick[data-value]')]
  .map((n) => [n.textContent, Number(n.dataset.value)]);
return { tops, main: inner, used, ticks };
"""
