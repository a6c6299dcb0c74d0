"""No Docker engine runs here, so check statically that the compose file and the Dockerfile parse
and name commands, files, ports and routes that exist in this repository."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "docker" / "Dockerfile"
APP_ROOT = "/app"  # the image's WORKDIR


def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def instr(name: str) -> list[str]:
    return [args for word, args in dockerfile() if word == name]


def exec_form(args: str) -> list[str]:
    return json.loads(args) if args.startswith("[") else shlex.split(args)


def env_of_image() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in instr("ENV"):
        for pair in shlex.split(args):
            key, _, value = pair.partition("=")
            env[key] = value
    return env


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def in_repo(container_path: str) -> Path:
    """The repo file a path inside the image comes from (the image copies the repo under /app)."""
    assert container_path.startswith(APP_ROOT + "/"), container_path
    return REPO / container_path[len(APP_ROOT) + 1 :]


def test_dockerfile_copies_existing_paths_and_runs_the_service() -> None:
    assert instr("WORKDIR") == [APP_ROOT]
    for args in instr("COPY"):
        *sources, _dest = shlex.split(args)
        for src in sources:
            assert (REPO / src).exists(), f"COPY {src}: not in the repo"
    assert exec_form(instr("CMD")[-1]) == ["python", "-m", "service"]
    assert (REPO / "service" / "__main__.py").exists()
    env = env_of_image()
    assert instr("EXPOSE") == [env["PORT"]]
    assert in_repo(env["LONGTAIL_CONFIG"]).is_file()
    # torch pinned to the same version as `make setup`, from the CPU-only wheel index.
    pins = set(re.findall(r"torch==([\w.+]+)", (REPO / "Makefile").read_text()))
    run = " ".join(instr("RUN"))
    assert pins and all(f"torch=={p}" in run for p in pins)
    assert "download.pytorch.org/whl/cpu" in run
    health = instr("HEALTHCHECK")[0]
    assert f"127.0.0.1:{env['PORT']}/healthz" in health


def test_the_image_installs_every_service_package() -> None:
    import tomllib

    packages = set(
        tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    )
    on_disk = {
        ".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "service").rglob("__init__.py")
    }
    assert on_disk <= packages, f"not installed by `pip install .`: {sorted(on_disk - packages)}"


def test_compose_services_wire_up(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) >= {"redis", "trainer", "api"}
    assert services["redis"]["healthcheck"]["test"][-1] == "ping"
    for name in ("trainer", "api"):
        assert services[name]["image"] == services["trainer"]["image"]
    build = services["trainer"]["build"]
    assert (REPO / build["context"] / build["dockerfile"]) == DOCKERFILE
    api = services["api"]
    assert api["depends_on"] == {
        "redis": {"condition": "service_healthy"},
        "trainer": {"condition": "service_completed_successfully"},
    }
    assert services["trainer"].get("restart") == "no"
    env = api["environment"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert api["ports"] == [f"{env['PORT']}:{env['PORT']}"]
    assert f"127.0.0.1:{env['PORT']}/readyz" in " ".join(api["healthcheck"]["test"])
    assert in_repo(env["LONGTAIL_CONFIG"]).is_file()
    # Both containers mount the same named volume where the bundle lives.
    mounts = {name: services[name]["volumes"][0].split(":") for name in ("trainer", "api")}
    assert mounts["trainer"][:2] == mounts["api"][:2] == ["bundles", f"{APP_ROOT}/artifacts"]
    assert "bundles" in compose["volumes"]


def test_trainer_writes_the_bundle_the_api_serves(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    script = " ".join(compose["services"]["trainer"]["command"][2:])
    argv = shlex.split(script.split("||", 1)[1])
    assert argv[:4] == ["python", "-m", "training", "train"]
    config = argv[argv.index("--config") + 1]
    out = argv[argv.index("--out") + 1]
    assert (REPO / config).is_file()
    # The api's config serves exactly that directory, in every variant.
    api_env = compose["services"]["api"]["environment"]
    for var in ("REDIS_URL", "ADMIN_TOKEN", "HOST", "PORT"):
        monkeypatch.delenv(var, raising=False)
    settings = load_settings(in_repo(api_env["LONGTAIL_CONFIG"]))
    assert {str(v.bundle) for v in settings.variants.values()} == {out}
    assert set(settings.buckets) == {"control", "treatment"}
    # And the trainer's command line is one the training CLI accepts.
    help_text = subprocess.run(
        [sys.executable, "-m", "training", "train", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (
        help_text.returncode == 0 and "--config" in help_text.stdout and "--out" in help_text.stdout
    )


def test_replicas_profile_runs_api_replicas_on_redis_behind_nginx(compose: dict[str, Any]) -> None:
    services = compose["services"]
    replica, proxy, api = services["api-replica"], services["proxy"], services["api"]
    assert replica["profiles"] == proxy["profiles"] == ["replicas"]
    assert "profiles" not in api  # plain `docker compose up` is unchanged
    assert replica["image"] == api["image"] and replica["command"] == api["command"]
    env = replica["environment"]
    assert env["REDIS_URL"].startswith("redis://redis:6379")
    assert env["REPLICAS"] == replica["deploy"]["replicas"]  # each process knows it is not alone
    assert proxy["image"].startswith("nginx:")
    conf_src, conf_dst, _ = proxy["volumes"][0].split(":")
    conf = (REPO / conf_src).read_text()
    assert conf_dst == "/etc/nginx/nginx.conf"
    assert f"server api-replica:{env['PORT']};" in conf
    assert f"listen {proxy['ports'][0].split(':')[1]};" in conf
    assert proxy["depends_on"] == {"api-replica": {"condition": "service_healthy"}}
    # Only shown lists may be evicted: the compose Redis evicts among keys with a TTL only.
    command = services["redis"]["command"]
    assert command[command.index("--maxmemory-policy") + 1] == "volatile-ttl"
    assert "--maxmemory" in command


def test_only_the_api_runs_the_api_healthcheck(compose: dict[str, Any]) -> None:
    """The image's HEALTHCHECK probes the API: any other service of that image disables it."""
    image = compose["services"]["trainer"]["image"]
    for name, service in compose["services"].items():
        if service.get("image") != image:
            continue
        runs_api = service.get("command") == ["python", "-m", "service"]
        health = service.get("healthcheck", {})
        if not runs_api:
            assert health.get("disable") is True, f"{name} inherits the API healthcheck"


def test_every_environment_variable_is_one_the_service_reads(compose: dict[str, Any]) -> None:
    from service.settings import _Environment

    known = {name.upper() for name in _Environment.model_fields}
    for name, service in compose["services"].items():
        if service.get("command") != ["python", "-m", "service"]:
            continue
        env = service["environment"]
        assert set(env) <= known, f"{name}: unknown variables {sorted(set(env) - known)}"
        # Secrets are never given a default in the file: pass-through or required.
        assert env["ADMIN_TOKEN"] is None
        assert env["READ_TOKEN"].startswith("${READ_TOKEN:?")


def test_docker_compose_config_accepts_the_file() -> None:
    """`docker compose config` where the v2 plugin exists (Debian bookworm packages none)."""
    import shutil

    docker = shutil.which("docker")
    probe = (
        subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
        if docker
        else None
    )
    if probe is None or probe.returncode != 0:
        pytest.skip("docker compose v2 not installed; the parsing tests above check the file")
    env = {**os.environ, "READ_TOKEN": "x" * 20}
    r = subprocess.run(
        [docker, "compose", "-f", str(REPO / "docker-compose.yml"), "config", "-q"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 0, r.stderr
