"""The OpenAPI document says what the service answers (issue 13 item 8): configured buckets as an
``enum``, bounds on every parameter, the 400s and the error body documented, ``/metrics`` as
Prometheus text, and the guarded operations with their security scheme."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from svc_helpers import ADMIN_TOKEN, LiveServer, live, service_settings

from service.app import create_app

READ_TOKEN = "doc-read-token-012345"
RETENTION_S = 7200


@pytest.fixture(scope="module")
def server(mirec_bundle: Path) -> Iterator[LiveServer]:
    settings = service_settings(
        mirec_bundle,
        access_log=False,
        read_token=READ_TOKEN,
        exposure={"retention_s": RETENTION_S},
    )
    with live(create_app(settings)) as s:
        yield s


@pytest.fixture(scope="module")
def doc(server: LiveServer) -> dict[str, Any]:
    return httpx.get(f"{server.url}/openapi.json").json()


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {READ_TOKEN}"}
    with httpx.Client(base_url=server.url, timeout=30, headers=headers) as c:
        yield c


def param(doc: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    p = next(p for p in doc["paths"][path][method]["parameters"] if p["name"] == name)
    schema: dict[str, Any] = p["schema"]
    return next((s for s in schema.get("anyOf", []) if s.get("type") != "null"), schema)


def test_buckets_are_an_enum_of_the_configured_ones(doc: dict[str, Any]) -> None:
    assert param(doc, "/recommend", "post", "X-AB-Bucket")["enum"] == ["control", "treatment"]
    assert param(doc, "/stats/exposure", "get", "bucket")["enum"] == ["control", "treatment"]


def test_every_parameter_is_bounded(doc: dict[str, Any]) -> None:
    seen = 0
    for path, ops in doc["paths"].items():
        for method, op in ops.items():
            for p in op.get("parameters", []):
                schema = param(doc, path, method, p["name"])
                where = f"{method} {path} {p['name']}"
                if schema["type"] == "integer":
                    assert "minimum" in schema and "maximum" in schema, where
                elif schema["type"] == "string":
                    assert "enum" in schema or "maxLength" in schema, where
                seen += 1
    assert seen >= 5
    assert param(doc, "/stats/exposure", "get", "window_s")["maximum"] == RETENTION_S
    assert param(doc, "/stats/ab", "get", "window_s")["maximum"] == RETENTION_S


def test_the_window_bound_is_the_one_enforced(client: httpx.Client) -> None:
    for path in ("/stats/exposure", "/stats/ab"):
        assert client.get(path, params={"window_s": RETENTION_S}).status_code == 200
        over = client.get(path, params={"window_s": RETENTION_S + 1})
        assert over.status_code == 422 and over.json()["detail"][0]["loc"] == ["query", "window_s"]


def test_metrics_is_documented_and_served_as_text(
    doc: dict[str, Any], client: httpx.Client
) -> None:
    content = doc["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert list(content) == ["text/plain"]
    r = client.get("/metrics")
    assert r.headers["content-type"].split(";")[0] == "text/plain"
    assert "# TYPE longtail_" in r.text


def answer_is_documented(doc: dict[str, Any], path: str, method: str, r: httpx.Response) -> None:
    responses = doc["paths"][path][method]["responses"]
    assert str(r.status_code) in responses, (path, r.status_code, sorted(responses))
    content = responses[str(r.status_code)]["content"]
    assert content == {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    detail = r.json()["detail"]
    assert all({"loc", "msg", "type"} <= set(d) for d in detail)


def test_the_400s_are_documented(doc: dict[str, Any], client: httpx.Client) -> None:
    r = client.post("/recommend", json={"user_id": "u1"}, headers={"X-AB-Bucket": "nope"})
    assert r.status_code == 400 and r.json()["valid_buckets"] == ["control", "treatment"]
    answer_is_documented(doc, "/recommend", "post", r)
    r = client.get("/stats/exposure", params={"bucket": "nope"})
    assert r.status_code == 400
    answer_is_documented(doc, "/stats/exposure", "get", r)
    # A body that is not UTF-8: FastAPI's own 400, in the service's error shape.
    headers = {"content-type": "application/json"}
    r = client.post("/feedback", content=b"\x80", headers=headers)
    assert r.status_code == 400 and r.json()["detail"][0]["loc"] == ["body"]
    answer_is_documented(doc, "/feedback", "post", r)
    admin = {**headers, "Authorization": f"Bearer {ADMIN_TOKEN}"}
    r = client.post("/admin/reload", content=b"\x80", headers=admin)
    assert r.status_code == 400
    answer_is_documented(doc, "/admin/reload", "post", r)
    # /stats/ab takes no bucket: it documents no 400.
    assert "400" not in doc["paths"]["/stats/ab"]["get"]["responses"]


def test_guarded_operations_declare_their_scheme(doc: dict[str, Any]) -> None:
    schemes = doc["components"]["securitySchemes"]
    assert schemes["readToken"] == {"type": "http", "scheme": "bearer", "description": "READ_TOKEN"}
    assert schemes["readCookie"]["in"] == "cookie"
    for path in ("/stats/exposure", "/stats/ab"):
        op = doc["paths"][path]["get"]
        assert op["security"] == [{"readToken": []}, {"readCookie": []}]
        assert "401" in op["responses"]
    assert doc["paths"]["/admin/reload"]["post"]["security"] == [{"adminToken": []}]
    for path, method in (("/recommend", "post"), ("/readyz", "get"), ("/metrics", "get")):
        assert "security" not in doc["paths"][path][method], path  # open (no metrics_token)


def test_unknown_paths_and_methods_answer_in_the_error_shape(client: httpx.Client) -> None:
    r = client.get("/nope")
    assert r.status_code == 404 and r.json()["detail"][0]["loc"] == ["path"]
    r = client.get("/recommend")
    assert r.status_code == 405 and r.json()["detail"][0]["type"] == "method_not_allowed"
