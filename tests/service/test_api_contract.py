"""The HTTP contract (docs/architecture.md) through a real HTTP client against a live server."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from svc_helpers import ADMIN_TOKEN, LiveServer, live, make_bundle, service_settings

from service.ab import BucketAssigner
from service.app import create_app
from service.schemas import RecommendResponse


# Every contract test runs twice: with /recommend on the hot path (service/hot_path.py, the
# default) and with it off, served by its APIRoute; the two must be indistinguishable.
@pytest.fixture(scope="module", params=[True, False], ids=["hot_path", "routed"])
def server(mirec_bundle: Path, request: pytest.FixtureRequest) -> Iterator[LiveServer]:
    with live(create_app(service_settings(mirec_bundle, hot_path=request.param))) as s:
        yield s


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c


def loc(response: httpx.Response) -> list[list[object]]:
    return [e["loc"] for e in response.json()["detail"]]


def test_recommend_known_user(client: httpx.Client) -> None:
    r = client.post("/recommend", json={"user_id": "u5", "k": 7})
    assert r.status_code == 200
    body = RecommendResponse.model_validate(r.json())  # exactly the documented shape
    assert r.headers["x-request-id"] == body.request_id
    assert body.user_id == "u5" and len(body.items) == 7 and not body.cold_start
    expected = BucketAssigner({"control": 1, "treatment": 1}, "longtail-rec-ab-v1").assign("u5")
    assert body.bucket == expected
    assert body.variant == {"control": "mirec_base", "treatment": "mirec_tail"}[expected]
    assert body.model_version.startswith("mirec-")
    scores = [i.score for i in body.items]
    assert scores == sorted(scores, reverse=True)
    assert len({i.item_id for i in body.items}) == 7


def test_bucket_header_forces_the_bucket_and_its_lambda(client: httpx.Client) -> None:
    for bucket, variant, lam in (("control", "mirec_base", 0.5), ("treatment", "mirec_tail", 0.2)):
        r = client.post("/recommend", json={"user_id": "u5"}, headers={"X-AB-Bucket": bucket})
        assert r.status_code == 200
        assert (r.json()["bucket"], r.json()["variant"], r.json()["lambda_p"]) == (
            bucket,
            variant,
            lam,
        )


def test_unknown_bucket_is_400_listing_the_valid_ones(client: httpx.Client) -> None:
    r = client.post("/recommend", json={"user_id": "u5"}, headers={"X-AB-Bucket": "nope"})
    assert r.status_code == 400
    assert loc(r) == [["header", "X-AB-Bucket"]]
    assert r.json()["valid_buckets"] == ["control", "treatment"]
    assert "control, treatment" in r.json()["detail"][0]["msg"]


def test_overlong_bucket_header_is_422_naming_the_header(client: httpx.Client) -> None:
    r = client.post("/recommend", json={"user_id": "u5"}, headers={"X-AB-Bucket": "b" * 65})
    assert r.status_code == 422 and loc(r) == [["header", "X-AB-Bucket"]]


def test_openapi_documents_the_recommend_body_and_header(client: httpx.Client) -> None:
    # The handler validates the raw body itself; the document must still describe it.
    op = client.get("/openapi.json").json()["paths"]["/recommend"]["post"]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    assert schema["required"] == ["user_id"] and schema["properties"]["k"]["maximum"] == 1000
    assert schema["additionalProperties"] is False
    assert [(p["name"], p["in"]) for p in op["parameters"]] == [("X-AB-Bucket", "header")]


def test_request_lambda_override(client: httpx.Client) -> None:
    base = client.post(
        "/recommend", json={"user_id": "u9", "k": 20}, headers={"X-AB-Bucket": "control"}
    )
    many_shot = client.post(
        "/recommend",
        json={"user_id": "u9", "k": 20, "lambda_p": 1},
        headers={"X-AB-Bucket": "control"},
    )
    assert many_shot.json()["lambda_p"] == 1.0
    assert [i["score"] for i in base.json()["items"]] != [
        i["score"] for i in many_shot.json()["items"]
    ]


def test_cold_start_with_features_history_and_exclude(client: httpx.Client) -> None:
    first = client.post(
        "/recommend", json={"user_id": "brand-new", "k": 10, "features": {"gender": "M"}}
    )
    assert first.status_code == 200 and first.json()["cold_start"] is True
    shown = [i["item_id"] for i in first.json()["items"]]
    again = client.post(
        "/recommend",
        json={
            "user_id": "brand-new",
            "k": 10,
            "features": {"gender": "M"},
            "history": shown[:4],
            "exclude": shown[4:],
            "lambda_p": first.json()["lambda_p"],
        },
    )
    assert again.status_code == 200
    assert len(again.json()["items"]) == 10 and not {
        i["item_id"] for i in again.json()["items"]
    } & set(shown)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"user_id": "u1", "k": 0}, ["body", "k"]),
        ({"user_id": "u1", "k": 1001}, ["body", "k"]),
        ({"user_id": "u1", "k": "10"}, ["body", "k"]),
        ({"user_id": "u1", "history": [f"i{i}" for i in range(1001)]}, ["body", "history"]),
        ({"user_id": "u1", "exclude": [f"i{i}" for i in range(1001)]}, ["body", "exclude"]),
        ({"user_id": "u1", "exclude": ["x" * 257]}, ["body", "exclude", 0]),
        ({"user_id": "x" * 257}, ["body", "user_id"]),
        ({"k": 3}, ["body", "user_id"]),
        ({"user_id": "u1", "lambda_p": 1.5}, ["body", "lambda_p"]),
        ({"user_id": "u1", "features": {"shoe_size": "44"}}, ["body", "features", "shoe_size"]),
        ({"user_id": "u1", "features": {"gender": 3}}, ["body", "features", "gender"]),
        ({"user_id": "u1", "surprise": True}, ["body", "surprise"]),
    ],
)
def test_bad_input_is_4xx_naming_the_field(client: httpx.Client, body: dict, where: list) -> None:
    r = client.post("/recommend", json=body)
    assert r.status_code == 422
    assert any(place[: len(where)] == where for place in loc(r)), loc(r)


def test_lambda_override_on_a_two_tower_variant_is_refused(
    mirec_bundle: Path, two_tower_bundle: Path
) -> None:
    settings = service_settings(
        mirec_bundle,
        variants={"tt": {"bundle": str(two_tower_bundle)}},
        buckets={"control": {"variant": "tt", "weight": 1}},
    )
    with live(create_app(settings)) as s:
        r = httpx.post(f"{s.url}/recommend", json={"user_id": "u1", "lambda_p": 0.3})
        assert r.status_code == 422 and loc(r) == [["body", "lambda_p"]]
        ok = httpx.post(f"{s.url}/recommend", json={"user_id": "u1"})
        assert ok.status_code == 200 and ok.json()["lambda_p"] is None


def test_oversized_and_malformed_bodies(client: httpx.Client) -> None:
    big = client.post(
        "/recommend",
        content=b'{"user_id": "' + b"x" * (3 << 20) + b'"}',
        headers={"content-type": "application/json"},
    )
    assert big.status_code == 413 and loc(big) == [["body"]]
    bad = client.post(
        "/recommend", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert bad.status_code == 422
    for raw, where in (
        (b'{"user_id": "u1", "k": NaN}', ["body", "k"]),
        (b'{"user_id": "u1", "lambda_p": Infinity}', ["body", "lambda_p"]),
    ):
        r = client.post("/recommend", content=raw, headers={"content-type": "application/json"})
        assert r.status_code == 422 and loc(r) == [where]  # and the error itself is valid JSON
    deep = client.post(
        "/recommend", content=b"[" * 200_000, headers={"content-type": "application/json"}
    )
    assert 400 <= deep.status_code < 500


def test_feedback_and_ab_stats(mirec_bundle: Path) -> None:
    with live(create_app(service_settings(mirec_bundle))) as s, httpx.Client(base_url=s.url) as c:
        shown = {}
        for bucket in ("control", "treatment"):
            r = c.post(
                "/recommend", json={"user_id": "u1", "k": 5}, headers={"X-AB-Bucket": bucket}
            )
            shown[bucket] = r.json()
        rec = shown["treatment"]
        item = rec["items"][0]
        click = {"request_id": rec["request_id"], "item_id": item["item_id"]}
        first = c.post("/feedback", json=click)
        assert first.status_code == 200
        assert first.json() == {"outcome": "counted", "bucket": "treatment", "tail": item["tail"]}
        assert c.post("/feedback", json=click).json()["outcome"] == "duplicate"
        unknown = c.post("/feedback", json={**click, "item_id": "never-shown"})
        assert unknown.status_code == 404 and loc(unknown) == [["body", "item_id"]]
        assert c.post("/feedback", json={**click, "event": "purchase"}).status_code == 422

        ab = c.get("/stats/ab").json()["buckets"]
        assert ab["treatment"]["overall"] == {"impressions": 5, "clicks": 1, "ctr": 0.2}
        part = "tail" if item["tail"] else "head"
        assert ab["treatment"][part]["clicks"] == 1
        assert ab["control"]["overall"]["clicks"] == 0
        vs = ab["treatment"]["vs_control"]["overall"]
        assert vs["diff"] == pytest.approx(0.2) and 0 < vs["p_value"] < 1
        assert "vs_control" not in ab["control"]


def test_exposure_stats(mirec_bundle: Path) -> None:
    with live(create_app(service_settings(mirec_bundle))) as s, httpx.Client(base_url=s.url) as c:
        tails = 0
        for i in range(12):
            r = c.post(
                "/recommend", json={"user_id": f"u{i}", "k": 10}, headers={"X-AB-Bucket": "control"}
            )
            tails += sum(it["tail"] for it in r.json()["items"])
        stats = c.get("/stats/exposure", params={"top_items": 3, "lorenz_points": 5}).json()
        ctl = stats["buckets"]["control"]
        assert stats["store"] == "memory" and stats["granularity_s"] == 60
        assert (ctl["requests"], ctl["impressions"], ctl["tail_impressions"]) == (12, 120, tails)
        assert ctl["head_impressions"] == 120 - tails
        assert ctl["tail_share"] == pytest.approx(tails / 120)
        assert ctl["catalogue_size"] == 300
        assert ctl["coverage"] == pytest.approx(ctl["distinct_items"] / 300)
        assert 0 < ctl["gini"] < 1 and len(ctl["lorenz"]) == 5 and ctl["lorenz"][-1] == [1.0, 1.0]
        assert sum(p["impressions"] for p in ctl["series"]) == 120
        assert len(ctl["top_items"]) == 3
        assert stats["buckets"]["treatment"]["requests"] == 0
        one = c.get("/stats/exposure", params={"bucket": "treatment", "window_s": 60}).json()
        assert list(one["buckets"]) == ["treatment"]
        assert c.get("/stats/exposure", params={"bucket": "x"}).status_code == 400
        too_long = c.get("/stats/exposure", params={"window_s": 10**9})
        assert too_long.status_code == 422 and loc(too_long) == [["query", "window_s"]]


def test_health_ready_metrics(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready" and ready["exposure_store"]["backend"] == "memory"
    assert set(ready["variants"]) == {"mirec_base", "mirec_tail"}
    client.post("/recommend", json={"user_id": "u2"}, headers={"X-AB-Bucket": "treatment"})
    client.get("/no/such/path/123")
    text = client.get("/metrics").text
    assert (
        'longtail_request_latency_seconds_count{bucket="treatment",endpoint="/recommend"}' in text
    )
    assert 'endpoint="unmatched"' in text and "/no/such/path" not in text
    assert 'longtail_model_info{index="flat"' in text and 'variant="mirec_tail"' in text
    assert "longtail_exposure_store_errors_total" in text


def test_access_log_carries_the_request_id(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    def mine() -> list[logging.LogRecord]:
        return [rec for rec in caplog.records if getattr(rec, "request_id", None) == rid]

    with caplog.at_level(logging.INFO, logger="service.access"):
        r = client.post("/recommend", json={"user_id": "u3"}, headers={"X-Request-ID": "mine"})
        rid = r.json()["request_id"]
        # The line is written once the response has gone out, on the server's thread.
        deadline = time.monotonic() + 5
        while not mine() and time.monotonic() < deadline:
            time.sleep(0.01)
    records = mine()
    assert len(records) == 1
    rec = records[0]
    assert (rec.status, rec.endpoint, rec.bucket, rec.client_request_id) == (
        200,
        "/recommend",
        r.json()["bucket"],
        "mine",
    )


def test_reload_needs_the_token_and_keeps_serving_on_a_bad_bundle(
    tmp_path: Path, mirec_bundle: Path
) -> None:
    live_bundle = tmp_path / "live"
    shutil.copytree(mirec_bundle, live_bundle)
    app = create_app(service_settings(live_bundle, bundle_root=str(tmp_path)))
    with live(app) as s, httpx.Client(base_url=s.url) as c:
        old = c.post("/recommend", json={"user_id": "u1"}).json()["model_version"]
        assert c.post("/admin/reload").status_code == 401
        wrong = c.post("/admin/reload", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and loc(wrong) == [["header", "Authorization"]]
        auth = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

        corrupt = tmp_path / "corrupt"
        shutil.copytree(mirec_bundle, corrupt)
        with (corrupt / "items.npz").open("r+b") as fh:
            fh.seek(200)
            fh.write(b"garbage")
        r = c.post("/admin/reload", headers=auth, json={"bundles": {"mirec_tail": str(corrupt)}})
        assert r.status_code == 409
        msg = r.json()["detail"][0]["msg"]
        # The variant and the client's own path, never which file failed (issue 13 item 1).
        assert "mirec_tail" in msg and str(corrupt) in msg and "items.npz" not in msg
        after = c.post("/recommend", json={"user_id": "u1"}, headers={"X-AB-Bucket": "treatment"})
        assert after.status_code == 200 and after.json()["model_version"] == old

        make_bundle(live_bundle, "mirec", seed=7)  # a new model lands in the same directory
        ok = c.post("/admin/reload", headers=auth)
        assert ok.status_code == 200
        new = c.post("/recommend", json={"user_id": "u1"}).json()["model_version"]
        assert new != old and ok.json()["variants"]["mirec_base"]["model_version"] == new
        unknown = c.post("/admin/reload", headers=auth, json={"bundles": {"ghost": "x"}})
        assert unknown.status_code == 422 and loc(unknown) == [["body", "bundles", "ghost"]]
        text = c.get("/metrics").text
        assert 'longtail_reloads_total{outcome="refused"} 1.0' in text
        assert f'model_version="{new}"' in text and f'model_version="{old}"' not in text
