"""``GET /dashboard`` over real HTTP, without a browser: the page and its assets are served from
the package, reference nothing outside the service, and stay out of the API schema."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path

import httpx
import pytest
from svc_helpers import LiveServer, live, service_settings

from service.app import create_app

STATIC = files("service").joinpath("static")
SVG_NAMESPACE = "http://www.w3.org/2000/svg"


@pytest.fixture(scope="module")
def server(mirec_bundle: Path) -> Iterator[LiveServer]:
    with live(create_app(service_settings(mirec_bundle, access_log=False))) as s:
        yield s


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def test_page_is_html_with_a_same_origin_only_policy(client: httpx.Client) -> None:
    r = client.get("/dashboard")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    csp = r.headers["content-security-policy"]
    for directive in ("default-src 'none'", "connect-src 'self'", "script-src 'self'"):
        assert directive in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.text == STATIC.joinpath("dashboard.html").read_text(encoding="utf-8")


def test_every_referenced_asset_is_served_with_its_type(client: httpx.Client) -> None:
    html = client.get("/dashboard").text
    refs = re.findall(r'(?:href|src)="(dashboard/static/[^"]+)"', html)
    assert sorted(refs) == ["dashboard/static/dashboard.css", "dashboard/static/dashboard.js"]
    js_modules: set[str] = set()
    for ref in refs:
        r = client.get("/" + ref)
        assert r.status_code == 200, ref
        kind = "text/css" if ref.endswith(".css") else "text/javascript"
        assert r.headers["content-type"] == f"{kind}; charset=utf-8"
        js_modules.update(re.findall(r'from "\./([\w.]+)"', r.text))
    assert js_modules >= {"charts.js", "format.js"}
    for name in js_modules:  # ES module imports resolve relative to the script: same folder
        r = client.get(f"/dashboard/static/{name}")
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
        js_modules.update(re.findall(r'from "\./([\w.]+)"', r.text))


def test_no_asset_points_outside_the_service() -> None:
    names = [e.name for e in STATIC.iterdir() if e.name.endswith((".html", ".js", ".css"))]
    expected = {"dashboard.html", "dashboard.js", "dashboard.css", "charts.js", "format.js"}
    assert expected <= set(names)
    for name in names:
        text = STATIC.joinpath(name).read_text(encoding="utf-8").replace(SVG_NAMESPACE, "")
        assert not re.search(r"https?:|(?:src|href)=\"//|url\(|@import", text), name
        # Absolute paths would break behind a proxy that mounts the service under a prefix.
        assert not re.search(r'(?:src|href)="/|fetch\(\s*[`"]/', text), name


def test_unknown_asset_is_a_404_naming_the_field(client: httpx.Client) -> None:
    r = client.get("/dashboard/static/secrets.py")
    assert r.status_code == 404
    assert r.json()["detail"][0]["loc"] == ["path", "name"]
    assert "dashboard.js" in r.json()["detail"][0]["msg"]
    assert client.get("/dashboard/static/..%2Fapp.py").status_code == 404


def test_dashboard_is_not_part_of_the_api_schema(client: httpx.Client) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/stats/exposure" in paths
    assert not [p for p in paths if p.startswith("/dashboard")]
