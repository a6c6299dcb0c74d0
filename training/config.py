"""One typed, frozen config per run, loaded from TOML with ``--set section.key=value`` overrides.

Unknown keys are an error (pydantic ``extra="forbid"``); the resolved config is saved in the
bundle manifest and in results files. Every decision marked [ours] in docs/methods.md is an option
here with the stated default.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SyntheticConfig(_Section):
    """Parameters of the embedded synthetic dataset (see training/data/synthetic.py)."""

    preset: Literal["small", "large", "tiny", "custom"] = "small"
    n_users: int | None = None  # None: the preset's value
    n_items: int | None = None
    interactions_per_user: int | None = None
    popularity_exponent: float = 1.0  # Zipf exponent of item popularity
    latent_dim: int = 8
    feature_noise: float = 0.1  # share of feature values drawn at random instead of from latents
    with_timestamps: bool = True


class CsvConfig(_Section):
    """A user's own data: column mapping for the generic ``csv`` loader."""

    interactions: str = "interactions.csv"
    sep: str = ","
    user_col: str = "user_id"
    item_col: str = "item_id"
    timestamp_col: str | None = None
    item_features: str | None = None
    item_key: str = "item_id"
    item_multi: list[str] = Field(default_factory=list)  # columns that are multi-valued
    user_features: str | None = None
    user_key: str = "user_id"
    user_multi: list[str] = Field(default_factory=list)
    multi_sep: str = "|"
    encoding: str = "utf-8"


class DataConfig(_Section):
    dataset: Literal["synthetic", "ml-1m", "ml-100k", "bookcrossing", "csv"] = "synthetic"
    data_dir: str | None = None
    seed: int = 0  # seeds the synthetic generator and the random leave-one-out split
    head_fraction: float = 0.2
    train_fraction: float = 1.0  # keep this share of training interactions (data-size sweeps)
    synthetic: SyntheticConfig = SyntheticConfig()
    csv: CsvConfig = CsvConfig()


class ModelConfig(_Section):
    kind: Literal["two_tower", "ssl", "mirec"] = "two_tower"
    dim: int = 64
    field_dim: int = 32  # embedding width of each feature field
    hidden: list[int] = Field(default_factory=lambda: [256, 128, 64])
    normalize: bool = False  # cosine similarity / temperature instead of dot product
    temperature: float = 0.07
    logq: bool = False  # logQ correction of the batch softmax
    logq_weight: float = 1.0  # lambda_c
    mask_accidental_hits: bool = True
    # "ids": the towers see only user_id / item_id (a matrix factorisation through the same
    # trainer, a reference); "all": every feature field of the dataset.
    features: Literal["all", "ids"] = "all"
    # Negatives of the softmax: "in_batch" (the other positives of the batch, logQ-corrected when
    # model.logq), "full" (every catalogue item: an exact softmax, no sampling bias, for catalogues
    # of a few thousand items), "mixed" (in-batch plus model.uniform_negatives items drawn
    # uniformly from the catalogue per step, Yang et al. 2020).
    negatives: Literal["in_batch", "full", "mixed"] = "in_batch"
    uniform_negatives: int = Field(1024, ge=1)


class SslConfig(_Section):
    # none = plain two-tower; fd = feature dropout on the main task, no SSL loss;
    # so = spread-out (SSL loss on un-augmented items); rfm / cfm = the paper's augmentations.
    mode: Literal["none", "fd", "so", "rfm", "cfm"] = "none"
    alpha: float = 0.3
    temperature: float = 0.07
    dropout_rate: float = 0.3  # dr
    batch_size: int = 512
    cfm_group: Literal["paper", "half"] = "paper"


class MirecConfig(_Section):
    lambda_: float = Field(1.0, alias="lambda")  # weight of the recommendation loss L_g
    local_steps: int = 1
    few_shot_init: Literal["many_shot", "random"] = "many_shot"
    curriculum: Literal["ltcur", "head2tail", "tail2head"] = "ltcur"
    meta: Literal["residual", "identity"] = "residual"
    mse: bool = True
    meta_hidden: int | None = None  # None: d
    many_shot_epochs: int | None = None  # None: train.epochs
    few_shot_epochs: int | None = None
    lambda_p: float = 0.5  # serving blend weight of the many-shot score (tuned on validation)
    tune_lambda_p: bool = True
    # How the sweep picks λ_p: "overall" = best validation NDCG@50; "tail_at_budget" = best tail
    # validation HR@50 among the λ_p whose overall validation NDCG@50 is within a relative
    # lambda_p_epsilon of the best.
    lambda_p_rule: Literal["overall", "tail_at_budget"] = "overall"
    lambda_p_epsilon: float = Field(0.01, ge=0.0, le=1.0)
    many_shot_logq: bool = True  # phase 1 uses logQ correction (the paper's many-shot model)
    few_shot_logq: bool = False  # [ours] Ω(k) is already rebalanced, so phase 2 does not
    loss_curve_sample: int = 20000  # training pairs sampled to record per-slice train loss

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class TrainConfig(_Section):
    epochs: int = 20
    batch_size: int = 1024
    lr: float = 1e-3
    weight_decay: float = 0.0
    optimizer: Literal["adam", "adagrad", "sgd"] = "adam"
    seed: int = 0
    device: Literal["cpu", "cuda"] = "cpu"
    patience: int = 3  # early stopping on validation NDCG@50
    # Per-run wall-clock budget of the training loop (seconds; None: unbounded). Training stops
    # after the epoch that crosses it and keeps the best epoch so far.
    time_budget_s: float | None = Field(None, gt=0)
    threads: int | None = None  # torch intra-op threads; None: all cores
    progress: bool = True


class EvalConfig(_Section):
    ks: list[int] = Field(default_factory=lambda: [10, 20, 50])
    batch_size: int = 256


class RunConfig(_Section):
    data: DataConfig = DataConfig()
    model: ModelConfig = ModelConfig()
    ssl: SslConfig = SslConfig()
    mirec: MirecConfig = MirecConfig()
    train: TrainConfig = TrainConfig()
    eval: EvalConfig = EvalConfig()

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json", by_alias=True)


class ConfigError(ValueError):
    """A config file or override that cannot be used; the message names the file and key."""


def _parse_value(text: str) -> Any:
    """Parse an override's value as a TOML value; bare words stay strings."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides to a raw (nested dict) config, returning a copy."""
    out: dict[str, Any] = _deep_copy(raw)
    for item in overrides:
        if "=" not in item:
            raise ConfigError(f"--set {item!r}: expected section.key=value")
        key, value = item.split("=", 1)
        parts = key.strip().split(".")
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {p!r} is not a section")
        node[parts[-1]] = _parse_value(value.strip())
    return out


def _deep_copy(d: dict[str, Any]) -> dict[str, Any]:
    return {k: _deep_copy(v) if isinstance(v, dict) else v for k, v in d.items()}


def config_from_dict(raw: dict[str, Any], source: str = "<dict>") -> RunConfig:
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as e:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in e.errors()
        )
        raise ConfigError(f"{source}: {problems}") from None


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Load a TOML config (or the defaults when ``path`` is None) and apply overrides."""
    raw: dict[str, Any] = {}
    source = "<defaults>"
    if path is not None:
        source = str(path)
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: config file not found") from None
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: {e}") from None
    return config_from_dict(apply_overrides(raw, overrides or []), source)
