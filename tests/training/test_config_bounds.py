"""The run config refuses out-of-range values at load time, naming the field (issue 12 item 4)."""

from __future__ import annotations

from pathlib import Path

import pytest

from training.config import ConfigError, DataConfig, EvalConfig, RunConfig, load_config
from training.data.registry import DATASETS
from training.protocol import DEFAULT_HEAD_FRACTION, DEFAULT_KS


@pytest.mark.parametrize(
    ("override", "field", "why"),
    [
        ("mirec.lambda_p=1.5", "mirec.lambda_p", "less than or equal to 1"),
        ("mirec.lambda_p=-0.1", "mirec.lambda_p", "greater than or equal to 0"),
        ("data.head_fraction=7", "data.head_fraction", "less than 1"),
        ("data.head_fraction=0", "data.head_fraction", "greater than 0"),
        ("data.train_fraction=0", "data.train_fraction", "greater than 0"),
        ("train.lr=-1", "train.lr", "greater than 0"),
        ("train.lr=nan", "train.lr", "finite number"),
        ("train.batch_size=0", "train.batch_size", "greater than or equal to 1"),
        ("model.dim=0", "model.dim", "greater than or equal to 1"),
        ("model.hidden=[64, 0]", "model.hidden.1", "greater than or equal to 1"),
        ("model.temperature=0", "model.temperature", "greater than 0"),
        ("train.epochs=-1", "train.epochs", "greater than or equal to 1"),
        ("train.patience=0", "train.patience", "greater than or equal to 1"),
        ("train.weight_decay=-0.5", "train.weight_decay", "greater than or equal to 0"),
        ("train.threads=0", "train.threads", "greater than or equal to 1"),
        ("ssl.dropout_rate=1", "ssl.dropout_rate", "less than 1"),
        ("ssl.alpha=-1", "ssl.alpha", "greater than or equal to 0"),
        ("eval.ks=[10, 0, 50]", "eval.ks.1", "greater than or equal to 1"),
        ("eval.ks=[10, 20]", "eval.ks", "must include 50"),
        ("data.dataset='ml-20m'", "data.dataset", "unknown dataset 'ml-20m'"),
    ],
)
def test_out_of_range_values_are_refused_naming_the_field(
    override: str, field: str, why: str
) -> None:
    with pytest.raises(ConfigError) as e:
        load_config(None, [override])
    assert str(e.value).startswith(f"--set: {field}: ")
    assert why in str(e.value)


def test_a_bad_value_in_a_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    f = tmp_path / "run.toml"
    f.write_text("[mirec]\nlambda_p = 1.5\n[data]\nhead_fraction = 7.0\n")
    with pytest.raises(ConfigError) as e:
        load_config(f)
    msg = str(e.value)
    assert msg.startswith(f"{f}: ")
    assert "data.head_fraction: Input should be less than 1" in msg
    assert "mirec.lambda_p: Input should be less than or equal to 1" in msg


def test_boundary_values_are_accepted() -> None:
    cfg = load_config(
        None,
        ["mirec.lambda_p=1.0", "mirec.few_shot_epochs=0", "data.train_fraction=1.0",
         "ssl.dropout_rate=0.0", "train.epochs=1"],
    )  # fmt: skip
    assert cfg.mirec.lambda_p == 1.0 and cfg.mirec.few_shot_epochs == 0


def test_defaults_come_from_the_protocol() -> None:
    assert DataConfig().head_fraction == DEFAULT_HEAD_FRACTION
    assert EvalConfig().ks == list(DEFAULT_KS)


def test_every_registered_dataset_is_a_valid_config_value() -> None:
    for name in DATASETS:
        assert RunConfig.model_validate({"data": {"dataset": name}}).data.dataset == name


def test_missing_and_malformed_files_are_config_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="nope.toml: config file not found"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("[train\n")
    with pytest.raises(ConfigError, match="bad.toml: "):
        load_config(bad)
    with pytest.raises(ConfigError, match="is a directory"):
        load_config(tmp_path)
