"""Nothing opens by accident (issue 13, items 1 and 6): weak tokens refused at start-up, tokens
checked before any body is read, reloads confined to ``bundle_root`` with one message for every
refusal, and public responses that name no internal host, port, path or exception text."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from svc_helpers import ADMIN_TOKEN, LiveServer, live, service_settings

from service.app import create_app
from service.auth import READ_COOKIE, token_matches
from service.exposure.redis_store import RedisExposureStore
from service.settings import MIN_TOKEN_CHARS, SettingsError, load_settings

REPO = Path(__file__).resolve().parents[2]
READ_TOKEN = "test-read-token-0123"
METRICS_TOKEN = "test-metrics-token-01"
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
READ = {"Authorization": f"Bearer {READ_TOKEN}"}
TOKEN_VARS = ("ADMIN_TOKEN", "READ_TOKEN", "METRICS_TOKEN", "REDIS_URL", "LONGTAIL_CONFIG")


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in TOKEN_VARS:
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


# --- start-up: weak tokens are refused, unset ones switch the feature off ----------------------


@pytest.mark.parametrize("key", ["admin_token", "read_token", "metrics_token"])
@pytest.mark.parametrize("value", ["", "   ", "short", "x" * (MIN_TOKEN_CHARS - 1), "a b" * 8])
def test_a_weak_token_in_the_toml_is_refused_naming_the_key(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, key: str, value: str
) -> None:
    cfg = tmp_path / "s.toml"
    cfg.write_text(f"{key} = {value!r}\n".replace("'", '"'))
    with pytest.raises(SettingsError) as e:
        load_settings(cfg)
    msg = str(e.value)
    assert str(cfg) in msg and key in msg
    if value.strip():
        assert value not in msg  # a secret is never echoed


@pytest.mark.parametrize("var", ["ADMIN_TOKEN", "READ_TOKEN", "METRICS_TOKEN"])
@pytest.mark.parametrize("value", ["", " ", "tooshort"])
def test_a_weak_token_in_the_environment_is_refused_naming_the_variable(
    clean_env: pytest.MonkeyPatch, var: str, value: str
) -> None:
    clean_env.setenv(var, value)
    with pytest.raises(SettingsError, match=var):
        load_settings()


def test_unset_tokens_mean_off_and_a_good_one_is_kept(clean_env: pytest.MonkeyPatch) -> None:
    s = load_settings()
    assert s.admin_token is None and s.read_token is None and s.metrics_token is None
    clean_env.setenv("READ_TOKEN", READ_TOKEN)
    s = load_settings()
    assert s.read_token is not None and s.read_token.get_secret_value() == READ_TOKEN


def test_the_cli_refuses_a_weak_admin_token_with_exit_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in TOKEN_VARS}
    env.update(ADMIN_TOKEN="", LONGTAIL_CONFIG=str(REPO / "configs" / "service_demo.toml"))
    proc = subprocess.run(
        [sys.executable, "-m", "service"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: ") and "ADMIN_TOKEN" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_token_comparison() -> None:
    from pydantic import SecretStr

    secret = SecretStr(ADMIN_TOKEN)
    assert token_matches(ADMIN_TOKEN, secret)
    for other in (None, "", ADMIN_TOKEN[:-1], ADMIN_TOKEN + "x", ADMIN_TOKEN.upper()):
        assert not token_matches(other, secret)


# --- the admin API ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory, mirec_bundle: Path) -> Path:
    """A bundle root with a good bundle, a corrupt one, a file, and symlinks that escape."""
    base = tmp_path_factory.mktemp("root")
    outside = tmp_path_factory.mktemp("outside")
    shutil.copytree(mirec_bundle, base / "good")
    shutil.copytree(mirec_bundle, base / "corrupt")
    (base / "corrupt" / "manifest.json").write_text("{")
    (base / "a_file").write_text("not a bundle")
    shutil.copytree(mirec_bundle, outside / "bundle")
    (base / "escape").symlink_to(outside / "bundle", target_is_directory=True)
    shutil.copytree(mirec_bundle, base / "sneaky")
    (base / "sneaky" / "manifest.json").unlink()
    (base / "sneaky" / "manifest.json").symlink_to(outside / "bundle" / "manifest.json")
    return base


@pytest.fixture(scope="module")
def admin_server(mirec_bundle: Path, root: Path) -> Iterator[LiveServer]:
    settings = service_settings(mirec_bundle, bundle_root=str(root), access_log=False)
    with live(create_app(settings)) as s:
        yield s


@pytest.fixture
def admin(admin_server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=admin_server.url, timeout=30) as c:
        yield c


@pytest.mark.parametrize(
    "body",
    [b"garbage", b'{"bundles": 5}', b"\xff" * 100, b'{"bundles": {"ghost": "/etc"}}'],
)
def test_unauthenticated_reload_is_401_whatever_the_body(admin: httpx.Client, body: bytes) -> None:
    for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer wrong-token-xyz1"}):
        r = admin.post("/admin/reload", content=body, headers=headers)
        assert r.status_code == 401, (headers, r.text)
        assert r.json()["detail"][0]["loc"] == ["header", "Authorization"]
        assert r.headers["www-authenticate"] == "Bearer"


def test_without_an_admin_token_reload_is_disabled(mirec_bundle: Path) -> None:
    settings = service_settings(mirec_bundle, admin_token=None, access_log=False)
    with live(create_app(settings)) as s, httpx.Client(base_url=s.url) as c:
        for headers in ({}, {"Authorization": "Bearer"}, {"Authorization": "Bearer None"}):
            r = c.post("/admin/reload", headers=headers)
            assert r.status_code == 401 and "disabled" in r.json()["detail"][0]["msg"]


def test_a_bundle_inside_the_root_reloads(admin: httpx.Client, root: Path) -> None:
    r = admin.post(
        "/admin/reload", headers=ADMIN, json={"bundles": {"mirec_tail": str(root / "good")}}
    )
    assert r.status_code == 200, r.text
    r = admin.post(
        "/admin/reload",
        headers=ADMIN,
        json={"bundles": {"mirec_tail": str(root / "x" / ".." / "good")}},
    )
    assert r.status_code == 200, r.text


def test_every_refused_path_gets_one_message(
    admin: httpx.Client,
    root: Path,
    tmp_path: Path,
    mirec_bundle: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = {
        "outside": str(mirec_bundle),  # a real bundle, but outside the root
        "dotdot": str(root / ".." / mirec_bundle.name),
        "missing": str(root / "nope"),
        "file": str(root / "a_file"),
        "corrupt": str(root / "corrupt"),
        "symlinked dir": str(root / "escape"),
        "symlinked file": str(root / "sneaky"),
        "etc": "/etc",
    }
    messages = {}
    with caplog.at_level(logging.ERROR, logger="service.admin"):
        for why, path in refused.items():
            r = admin.post("/admin/reload", headers=ADMIN, json={"bundles": {"mirec_tail": path}})
            assert r.status_code == 409, (why, r.text)
            detail = r.json()["detail"][0]
            assert (
                detail["loc"] == ["body", "bundles", "mirec_tail"]
                and detail["type"] == "reload_refused"
            )
            messages[why] = detail["msg"].replace(repr(path), "<path>")
    assert len(set(messages.values())) == 1, messages
    msg = next(iter(messages.values()))
    for word in ("directory", "manifest", "outside", "exist", "json", "root"):
        assert word not in msg.lower()
    # The server log keeps the reason for each.
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "outside bundle_root" in logged and "manifest.json" in logged
    # The old bundles kept serving.
    assert admin.post("/recommend", json={"user_id": "u1"}).status_code == 200


def test_without_a_bundle_root_a_reload_cannot_re_point(mirec_bundle: Path, tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(mirec_bundle, copy)
    with live(create_app(service_settings(mirec_bundle, access_log=False))) as s:
        with httpx.Client(base_url=s.url, timeout=30) as c:
            r = c.post("/admin/reload", headers=ADMIN, json={"bundles": {"mirec_tail": str(copy)}})
            assert r.status_code == 409
            assert c.post("/admin/reload", headers=ADMIN).status_code == 200  # re-read in place


# --- the read and metrics tokens ----------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(mirec_bundle: Path) -> Iterator[LiveServer]:
    settings = service_settings(
        mirec_bundle, read_token=READ_TOKEN, metrics_token=METRICS_TOKEN, access_log=False
    )
    with live(create_app(settings)) as s:
        yield s


@pytest.fixture
def anon(guarded: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=guarded.url, timeout=30) as c:
        yield c


@pytest.mark.parametrize(
    "path",
    [
        "/stats/exposure",
        "/stats/ab",
        "/stats/exposure?window_s=abc",
        "/dashboard",
        "/dashboard/static/dashboard.js",
        "/dashboard?token=wrong-token-000000",
        "/metrics",
    ],
)
def test_guarded_paths_need_their_token(anon: httpx.Client, path: str) -> None:
    r = anon.get(path)
    assert r.status_code == 401, r.text  # before any work: an invalid window_s is not a 422
    assert r.json()["detail"][0]["type"] == "unauthorized"


def test_the_right_tokens_open_them(anon: httpx.Client) -> None:
    assert anon.get("/stats/exposure", headers=READ).status_code == 200
    assert anon.get("/stats/ab", headers=READ).status_code == 200
    assert anon.get("/dashboard", headers=READ).status_code == 200
    assert anon.get("/metrics", headers=READ).status_code == 401  # each token opens its own
    m = anon.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"})
    assert m.status_code == 200 and m.headers["content-type"].startswith("text/plain")
    for open_path in ("/healthz", "/readyz", "/openapi.json"):
        assert anon.get(open_path).status_code == 200
    assert anon.post("/recommend", json={"user_id": "u1"}).status_code == 200


def test_the_dashboard_exchanges_the_token_for_a_cookie(anon: httpx.Client) -> None:
    r = anon.get("/dashboard", params={"token": READ_TOKEN, "refresh": "2"})
    assert r.status_code == 303
    assert r.headers["location"] == "dashboard?refresh=2"  # relative, and without the token
    set_cookie = r.headers["set-cookie"]
    assert set_cookie.startswith(f"{READ_COOKIE}=") and "HttpOnly" in set_cookie
    assert "SameSite=strict" in set_cookie or "SameSite=Strict" in set_cookie
    cookies = {READ_COOKIE: READ_TOKEN}
    with httpx.Client(base_url=str(anon.base_url), cookies=cookies, timeout=30) as c:
        assert c.get("/dashboard").status_code == 200
        assert c.get("/stats/exposure").status_code == 200
        assert c.get("/metrics").status_code == 401  # the read cookie opens the read side only
    bad = {READ_COOKIE: READ_TOKEN + "x"}
    with httpx.Client(base_url=str(anon.base_url), cookies=bad, timeout=30) as c:
        assert c.get("/stats/exposure").status_code == 401


# --- public responses name nothing internal -----------------------------------------------------


def test_an_unreachable_store_is_reported_without_its_address(
    mirec_bundle: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A port nothing listens on: the store's error text names host and port.
    store = RedisExposureStore(
        "redis://127.0.0.1:9/0",
        granularity_s=60,
        retention_s=3600,
        click_ttl_s=60,
        timeout_s=0.2,
        key_prefix="ltr-test-none",
    )
    app = create_app(service_settings(mirec_bundle, access_log=False), store=store)
    with caplog.at_level(logging.WARNING), live(app) as s, httpx.Client(base_url=s.url) as c:
        bodies = {
            "/readyz": c.get("/readyz"),
            "/stats/exposure": c.get("/stats/exposure"),
            "/stats/ab": c.get("/stats/ab"),
            "/feedback": c.post("/feedback", json={"request_id": "r" * 32, "item_id": "i1"}),
        }
    assert bodies["/readyz"].json()["status"] == "degraded"
    for path in ("/stats/exposure", "/stats/ab", "/feedback"):
        assert bodies[path].status_code == 503, path
        assert bodies[path].json()["detail"][0]["msg"] == "exposure store unavailable"
    for path, r in bodies.items():
        for leak in ("127.0.0.1", ":9", "Error", "redis ", "refused", str(mirec_bundle)):
            assert leak not in r.text, (path, leak, r.text)
    assert "127.0.0.1" in caplog.text  # the log keeps the detail


def test_readyz_names_no_bundle_path(mirec_bundle: Path) -> None:
    with live(create_app(service_settings(mirec_bundle, access_log=False))) as s:
        r = httpx.get(f"{s.url}/readyz")
    assert r.status_code == 200 and str(mirec_bundle) not in r.text
    assert set(r.json()["variants"]) == {"mirec_base", "mirec_tail"}
