"""Fuzz every operation of the app's own OpenAPI schema: no input may produce a 5xx, nothing
a client sends may corrupt the stats (click-through stays a proportion, counts stay consistent),
and every answer is one the document declares (status code and media type).

Requests are generated from the schema (hypothesis), then mutated: any value may be replaced by
arbitrary JSON, keys dropped or added, bounds overshot, and raw bodies thrown in. Values are
biased towards real ids (known users, shown items, valid buckets) so that deep paths run too.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from svc_helpers import ADMIN_TOKEN, LiveServer, live, service_settings

from service.app import create_app

KNOWN = ["u1", "u2", "stranger", "i1", "i5", "control", "treatment", "gender", "F", "click", ""]

json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(KNOWN)
)
any_json = st.recursive(
    json_leaf,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
header_text = st.text(alphabet=string.printable.strip(), max_size=80)


def from_schema(schema: dict[str, Any], components: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A strategy for (mostly) valid values of a JSON schema, with mutations mixed in."""
    if "$ref" in schema:
        return from_schema(components[schema["$ref"].rsplit("/", 1)[1]], components)
    if "anyOf" in schema:
        return st.one_of(*(from_schema(s, components) for s in schema["anyOf"]))
    kind = schema.get("type")
    base: st.SearchStrategy[Any]
    if kind == "string":
        if "enum" in schema:
            base = st.sampled_from(schema["enum"])
        else:
            hi = schema.get("maxLength", 300)
            base = (
                st.sampled_from(KNOWN)
                | st.text(max_size=min(hi + 2, 40))
                | st.text(min_size=hi - 1, max_size=hi + 1, alphabet="ab")
            )
    elif kind == "integer":
        lo, hi = schema.get("minimum", -(2**40)), schema.get("maximum", 2**40)
        base = st.integers(int(lo) - 2, int(hi) + 2) | st.integers()
    elif kind == "number":
        base = st.floats(-2, 3) | st.floats()
    elif kind == "boolean":
        base = st.booleans()
    elif kind == "null":
        base = st.none()
    elif kind == "array":
        item = from_schema(schema.get("items", {}), components)
        base = st.lists(item, max_size=6)
    elif kind == "object":
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        extra = schema.get("additionalProperties")
        fixed = {k: from_schema(v, components) for k, v in props.items()}

        @st.composite
        def obj(draw: st.DrawFn) -> dict[str, Any]:
            out = {}
            for k, s in fixed.items():
                if k in required or draw(st.booleans()):
                    out[k] = draw(s)
            if isinstance(extra, dict):
                values = from_schema(extra, components)
                out.update(
                    draw(
                        st.dictionaries(
                            st.sampled_from(KNOWN) | st.text(max_size=8), values, max_size=4
                        )
                    )
                )
            if draw(st.integers(0, 9)) == 0:  # an unknown key, or a required one missing
                if fixed and draw(st.booleans()):
                    out.pop(draw(st.sampled_from(sorted(fixed))), None)
                else:
                    out[draw(st.text(min_size=1, max_size=8))] = draw(any_json)
            return out

        base = obj()
    else:
        base = any_json
    return st.one_of(base, base, base, any_json)  # about one value in four is junk


READ_TOKEN = "fuzz-read-token-0123"
METRICS_TOKEN = "fuzz-metrics-token-01"
TOKENS = {"adminToken": ADMIN_TOKEN, "readToken": READ_TOKEN, "metricsToken": METRICS_TOKEN}


@pytest.fixture(scope="module")
def server(mirec_bundle: Path) -> Iterator[LiveServer]:
    settings = service_settings(
        mirec_bundle, access_log=False, read_token=READ_TOKEN, metrics_token=METRICS_TOKEN
    )
    with live(create_app(settings)) as s:
        yield s


def undocumented(op: dict[str, Any], r: httpx.Response) -> str | None:
    """Why the answer ``r`` is not one that ``op`` declares, or None."""
    declared = op["responses"].get(str(r.status_code))
    if declared is None:
        return f"status {r.status_code} not in {sorted(op['responses'])}"
    media = r.headers.get("content-type", "").split(";")[0].strip()
    content = declared.get("content")
    if content and media not in content:
        return f"{r.status_code} answered {media!r}, the document says {sorted(content)}"
    if media == "application/json" and r.status_code >= 400:
        detail = r.json().get("detail")
        if not (isinstance(detail, list) and all({"loc", "msg", "type"} <= set(d) for d in detail)):
            return f"{r.status_code} body is not the documented error shape: {r.text[:200]}"
    return None


def operations(app_schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(m.upper(), p, op) for p, ops in app_schema["paths"].items() for m, op in ops.items()]


def test_no_input_yields_a_server_error(server: LiveServer) -> None:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        schema = client.get("/openapi.json").json()
        components = schema["components"]["schemas"]
        ops = operations(schema)
        assert {p for _, p, _ in ops} >= {
            "/recommend",
            "/feedback",
            "/stats/exposure",
            "/stats/ab",
            "/admin/reload",
            "/readyz",
        }
        shown = client.post("/recommend", json={"user_id": "u1", "k": 50}).json()
        KNOWN.extend([shown["request_id"], *(i["item_id"] for i in shown["items"][:5])])

        @st.composite
        def request(draw: st.DrawFn) -> tuple[str, str, dict[str, Any]]:
            method, path, op = draw(st.sampled_from(ops))
            kwargs: dict[str, Any] = {"params": {}, "headers": {}}
            schemes = [k for s in op.get("security", []) for k in s if k in TOKENS]
            if schemes and draw(st.integers(0, 5)) > 0:  # mostly the right token, deep paths run
                kwargs["headers"]["Authorization"] = f"Bearer {TOKENS[schemes[0]]}"
            elif schemes:
                kwargs["headers"]["Authorization"] = draw(
                    st.sampled_from(["Bearer x", "Basic y", f"Bearer {ADMIN_TOKEN}x"]) | header_text
                )
            for p in op.get("parameters", []):
                if not draw(st.booleans()):
                    continue
                if p["in"] == "query":
                    value = draw(from_schema(p["schema"], components))
                    kwargs["params"][p["name"]] = str(value)
                elif p["name"].lower() == "authorization":
                    kwargs["headers"][p["name"]] = draw(
                        st.sampled_from([f"Bearer {ADMIN_TOKEN}", "Bearer x", "Basic y"])
                        | header_text
                    )
                else:
                    kwargs["headers"][p["name"]] = draw(st.sampled_from(KNOWN[:8]) | header_text)
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
            if "schema" in body:
                if draw(st.integers(0, 14)) == 0:
                    kwargs["content"] = draw(st.binary(max_size=200))
                    kwargs["headers"]["content-type"] = "application/json"
                else:  # json.dumps allows NaN / Infinity: Python's json.loads accepts them
                    value = draw(from_schema(body["schema"], components))
                    kwargs["content"] = json.dumps(value).encode()
                    kwargs["headers"]["content-type"] = "application/json"
            return method, path, kwargs

        failures: list[str] = []
        by_op = {(m, p): op for m, p, op in ops}

        @settings(
            max_examples=400, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        @given(request())
        def run(req: tuple[str, str, dict[str, Any]]) -> None:
            method, path, kwargs = req
            r = client.request(method, path, **kwargs)
            if r.status_code >= 500:
                failures.append(
                    f"{method} {path} {kwargs!r:.300} -> {r.status_code} {r.text[:200]}"
                )
            assert r.status_code < 500, failures[-1]
            why = undocumented(by_op[(method, path)], r)
            if why is not None:
                failures.append(f"{method} {path} {kwargs!r:.300}: {why}")
            assert why is None, failures[-1]

        run()

        # The stats survived: every rate is a proportion and the counters add up.
        read = {"Authorization": f"Bearer {READ_TOKEN}"}
        ab = client.get("/stats/ab", headers=read).json()["buckets"]
        exposure = client.get("/stats/exposure", headers=read).json()["buckets"]
        for bucket, entry in ab.items():
            for part in ("overall", "head", "tail"):
                assert 0 <= entry[part]["clicks"] <= entry[part]["impressions"]
            e = exposure[bucket]
            assert e["head_impressions"] + e["tail_impressions"] == e["impressions"]
            assert e["distinct_items"] <= e["catalogue_size"]
        assert client.post("/recommend", json={"user_id": "u1"}).status_code == 200
