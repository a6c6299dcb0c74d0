"""The /recommend hot path is installed, guarded, and uses the app's one error mapping."""

from __future__ import annotations

import inspect
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Request
from starlette.responses import JSONResponse
from svc_helpers import live, service_settings

from service import errors
from service.app import create_app
from service.hot_path import HotPath
from service.routes import recommend
from service.variant import Variant


def test_the_handler_takes_only_the_request() -> None:
    # HotPath calls endpoint(request): any other parameter (Depends, a typed body or header)
    # would never be solved there.
    sig = inspect.signature(recommend.recommend)
    assert list(sig.parameters) == ["request"]
    assert sig.parameters["request"].annotation in (Request, "Request")
    route = recommend.hot_routes()[("POST", "/recommend")][1]
    assert route.dependant.dependencies == []  # nothing for FastAPI to solve either


@pytest.mark.parametrize("on", [True, False])
def test_the_hot_path_is_installed_unless_turned_off(mirec_bundle: Path, on: bool) -> None:
    app = create_app(service_settings(mirec_bundle, hot_path=on))
    assert any(m.cls is HotPath for m in app.user_middleware) is on


class Unavailable(Exception):
    pass


async def _unavailable(_: Request, exc: Unavailable) -> JSONResponse:
    return JSONResponse({"detail": f"unavailable: {exc}"}, status_code=503)


def _post_raising(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch, exc: Exception
) -> tuple[httpx.Response, httpx.Response]:
    """POST /recommend to a live server of ``app`` while Variant.recommend raises ``exc``; then
    one more request with a bad body (the server still serves)."""

    def boom(*_: object, **__: object) -> None:
        raise exc

    monkeypatch.setattr(Variant, "recommend", boom)
    with live(app) as server:
        # One connection each: uvicorn closes a connection whose request raised.
        with httpx.Client(base_url=server.url, timeout=10) as client:
            r = client.post("/recommend", json={"user_id": "u5"})
        with httpx.Client(base_url=server.url, timeout=10) as client:
            after = client.post("/recommend", json={"user_id": 5})
    return r, after


@pytest.mark.parametrize("on", [True, False], ids=["hot_path", "routed"])
def test_a_handler_added_in_the_one_place_applies_to_recommend(
    mirec_bundle: Path, monkeypatch: pytest.MonkeyPatch, on: bool
) -> None:
    monkeypatch.setitem(errors.HANDLERS, Unavailable, _unavailable)
    app = create_app(service_settings(mirec_bundle, hot_path=on))
    r, _ = _post_raising(app, monkeypatch, Unavailable("index rebuilding"))
    assert r.status_code == 503
    assert r.json() == {"detail": "unavailable: index rebuilding"}
    assert r.headers["x-request-id"]  # still through ServiceMiddleware


def test_an_unmapped_exception_is_a_500_not_a_crash(
    mirec_bundle: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = create_app(service_settings(mirec_bundle))
    r, after = _post_raising(app, monkeypatch, RuntimeError("secret internal detail"))
    assert r.status_code == 500 and "secret internal detail" not in r.text
    assert after.status_code == 422 and after.json()["detail"][0]["loc"] == ["body", "user_id"]
