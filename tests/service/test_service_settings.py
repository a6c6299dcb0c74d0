from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import SettingsError, load_settings

TOML = """
[variants.base]
bundle = "artifacts/b"
[variants.tail]
bundle = "artifacts/b"
lambda_p = 0.2
index = { kind = "hnsw", hnsw_ef_search = 64 }
[buckets.control]
variant = "base"
weight = 3
[buckets.treatment]
variant = "tail"
weight = 1
[exposure]
granularity_s = 30
"""


def test_toml_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tmp_path / "service.toml"
    cfg.write_text('redis_url = "redis://from-file"\nport = 9000\n' + TOML)
    monkeypatch.setenv("LONGTAIL_CONFIG", str(cfg))
    monkeypatch.setenv("REDIS_URL", "redis://from-env:6379/0")
    monkeypatch.setenv("ADMIN_TOKEN", "s3cret-s3cret-s3cret")
    s = load_settings()
    assert s.redis_url == "redis://from-env:6379/0"  # the environment wins over the file
    assert s.port == 9000
    assert s.admin_token is not None and s.admin_token.get_secret_value() == "s3cret-s3cret-s3cret"
    assert "s3cret-s3cret-s3cret" not in repr(s)
    assert s.variants["tail"].lambda_p == 0.2 and s.variants["tail"].index.kind == "hnsw"
    assert s.buckets["control"].weight == 3 and s.exposure.granularity_s == 30


def test_defaults_without_any_config(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("LONGTAIL_CONFIG", "REDIS_URL", "ADMIN_TOKEN", "HOST", "PORT"):
        monkeypatch.delenv(var, raising=False)
    s = load_settings()
    assert s.redis_url is None and s.admin_token is None and s.port == 8000
    assert list(s.buckets) == ["control"]
    assert s.variants["default"].bundle == Path("artifacts/demo_bundle")


@pytest.mark.parametrize(
    ("text", "names"),
    [
        (TOML.replace("[buckets.control]", "[buckets.ctl]"), "control"),
        (TOML.replace('variant = "tail"', 'variant = "nope"'), "buckets.treatment.variant"),
        (TOML.replace("lambda_p = 0.2", "lambda_p = 1.5"), "variants.tail.lambda_p"),
        (TOML.replace("weight = 1", "weight = 0"), "buckets.treatment.weight"),
        ("surprise = 1\n" + TOML, "surprise"),
        (TOML.replace('kind = "hnsw"', 'kind = "lsh"'), "variants.tail.index.kind"),
        (
            TOML.replace("weight = 1", "weight = inf"),
            "buckets.treatment.weight: Input should be a finite",
        ),
        ("port = 0\n" + TOML, "port: Input should be greater than or equal to 1"),
        ("port = 70000\n" + TOML, "port: Input should be less than or equal to 65535"),
        (TOML + "timeout_s = 0\n", "exposure.timeout_s: Input should be greater than 0"),
        (TOML + "retry_interval_s = nan\n", "exposure.retry_interval_s: Input should be a finite"),
        ("build_threads = 0\n" + TOML, "build_threads: Input should be greater than or equal"),
        ("hot_path = 3\n" + TOML, "hot_path: Input should be a valid boolean"),
    ],
)
def test_bad_config_names_the_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, names: str
) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(SettingsError) as e:
        load_settings(cfg)
    assert str(cfg) in str(e.value) and names in str(e.value)


def test_missing_and_unparsable_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "absent.toml")
    bad = tmp_path / "broken.toml"
    bad.write_text("[variants\n")
    with pytest.raises(SettingsError, match="broken.toml"):
        load_settings(bad)


def test_a_bad_port_in_the_environment_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LONGTAIL_CONFIG", raising=False)
    for value, why in (("http", "valid integer"), ("0", "greater than or equal to 1")):
        monkeypatch.setenv("PORT", value)
        with pytest.raises(SettingsError, match=f"<defaults>: port: Input should be .*{why}"):
            load_settings()


def test_hot_path_is_on_unless_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LONGTAIL_CONFIG", raising=False)
    assert load_settings().hot_path is True
    assert load_settings(hot_path=False).hot_path is False
