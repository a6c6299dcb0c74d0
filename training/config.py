"""One typed, frozen config per run, loaded from TOML with ``--set section.key=value`` overrides.

Unknown keys are an error (pydantic ``extra="forbid"``); the resolved config is saved in the
bundle manifest and in results files. Every decision marked [ours] in docs/methods.md is an option
here with the stated default.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from common.toml_file import read_toml
from training.protocol import DEFAULT_HEAD_FRACTION, DEFAULT_KS

# The cut-off the trainers select on: early stopping and the λ_p sweep read validation NDCG@50.
SELECTION_K = 50

PositiveInt = Annotated[int, Field(ge=1)]
Seed = Annotated[int, Field(ge=0)]  # numpy's generators refuse negative seeds


class Section(BaseModel):
    """A config table: unknown keys refused, values frozen (also the experiment spec's base)."""

    # allow_inf_nan=False: TOML has inf and nan, and no option here means anything with them.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class SyntheticConfig(Section):
    """Parameters of the embedded synthetic dataset (see training/data/synthetic.py)."""

    preset: Literal["small", "large", "tiny", "custom"] = "small"
    n_users: PositiveInt | None = None  # None: the preset's value
    n_items: PositiveInt | None = None
    interactions_per_user: PositiveInt | None = None
    popularity_exponent: float = Field(1.0, ge=0.0)  # Zipf exponent of item popularity
    latent_dim: int = Field(8, ge=2)
    # Share of feature values drawn at random instead of from latents.
    feature_noise: float = Field(0.1, ge=0.0, le=1.0)
    with_timestamps: bool = True


class CsvConfig(Section):
    """A user's own data: column mapping for the generic ``csv`` loader."""

    name: str = "csv"  # the dataset's name in results files, bundles and stats
    interactions: str = "interactions.csv"
    sep: str = ","  # escapes accepted: "\\t" (backslash-t, e.g. from --set) is a tab
    user_col: str = "user_id"
    item_col: str = "item_id"
    timestamp_col: str | None = None
    weight_col: str | None = None  # a rating / weight column; summed when duplicates collapse
    min_weight: float | None = None  # keep rows with weight_col >= this (before collapsing)
    duplicates: Literal["collapse", "keep"] = "collapse"  # one interaction per user-item pair
    item_features: str | None = None
    item_key: str = "item_id"
    item_multi: list[str] = Field(default_factory=list)  # columns that are multi-valued
    user_features: str | None = None
    user_key: str = "user_id"
    user_multi: list[str] = Field(default_factory=list)
    # The feature columns to use; None: every non-key column (with a warning for a column whose
    # value is unique per row, e.g. a name or URL, which cannot generalise).
    item_feature_cols: list[str] | None = None
    user_feature_cols: list[str] | None = None
    multi_sep: str = "|"
    encoding: str = "utf-8"
    # Per-file separator / encoding; None: the global ``sep`` / ``encoding``.
    interactions_sep: str | None = None
    item_features_sep: str | None = None
    user_features_sep: str | None = None
    interactions_encoding: str | None = None
    item_features_encoding: str | None = None
    user_features_encoding: str | None = None

    @field_validator(
        "sep", "multi_sep", "interactions_sep", "item_features_sep", "user_features_sep"
    )
    @classmethod
    def _one_character(cls, v: str | None) -> str | None:
        if v is None:
            return v
        text = _ESCAPES.get(v, v)
        if len(text) != 1:
            raise ValueError(
                f"must be a single character (or an escape: {', '.join(_ESCAPES)}), got {v!r}"
            )
        return text

    @model_validator(mode="after")
    def _threshold_needs_column(self) -> CsvConfig:
        if self.min_weight is not None and self.weight_col is None:
            raise ValueError("min_weight needs weight_col, the column it applies to")
        return self

    def file_sep(self, file: Literal["interactions", "item_features", "user_features"]) -> str:
        own: str | None = getattr(self, f"{file}_sep")
        return own if own is not None else self.sep

    def file_encoding(self, file: Literal["interactions", "item_features", "user_features"]) -> str:
        own: str | None = getattr(self, f"{file}_encoding")
        return own if own is not None else self.encoding


# Separators given as two characters (shells and --set make a literal tab awkward).
_ESCAPES = {"\\t": "\t", "\\s": " ", "\\|": "|", "\\;": ";"}


def _one_of(name: str, known: Iterable[str], what: str) -> str:
    """``name`` if it is in ``known`` (a registry's names), else the error naming the choices."""
    names = list(known)
    if name not in names:
        raise ValueError(f"unknown {what} {name!r}; known: {', '.join(names)}")
    return name


class DataConfig(Section):
    dataset: str = "synthetic"  # a name in training/data/registry.py:DATASETS
    data_dir: str | None = None
    seed: Seed = 0  # seeds the synthetic generator and the random leave-one-out split
    head_fraction: float = Field(DEFAULT_HEAD_FRACTION, gt=0.0, lt=1.0)
    # Keep this share of training interactions (data-size sweeps).
    train_fraction: float = Field(1.0, gt=0.0, le=1.0)
    synthetic: SyntheticConfig = SyntheticConfig()
    csv: CsvConfig = CsvConfig()

    @field_validator("dataset")
    @classmethod
    def _known_dataset(cls, name: str) -> str:
        # Imported here: the loaders import this module (DataConfig), so the registry cannot be
        # imported at the top without a cycle; by the time a config is validated both are loaded.
        from training.data.registry import DATASETS

        return _one_of(name, DATASETS, "dataset")


class ModelConfig(Section):
    kind: str = "two_tower"  # a name in models/kinds.py:KINDS (and training/trainers:TRAINERS)
    dim: PositiveInt = 64
    field_dim: PositiveInt = 32  # embedding width of each feature field
    # Output sizes of each tower's Linear layers; [] = no MLP, the id embedding is the embedding
    # (a plain matrix factorisation: needs features = "ids" and field_dim = dim).
    hidden: list[PositiveInt] = Field(default_factory=lambda: [256, 128, 64])
    # std of the N(0, std²) the field embeddings start from; None keeps PyTorch's N(0, 1).
    init_std: float | None = Field(None, gt=0.0)
    normalize: bool = False  # cosine similarity / temperature instead of dot product
    temperature: float = Field(0.07, gt=0.0)
    logq: bool = False  # logQ correction of the batch softmax
    logq_weight: float = Field(1.0, ge=0.0)  # lambda_c
    mask_accidental_hits: bool = True
    # "ids": the towers see only user_id / item_id (a matrix factorisation through the same
    # trainer, a reference); "all": every feature field of the dataset.
    features: Literal["all", "ids"] = "all"
    # Negatives of the softmax: "in_batch" (the other positives of the batch, logQ-corrected when
    # model.logq), "full" (every catalogue item: an exact softmax, no sampling bias, for catalogues
    # of a few thousand items), "mixed" (in-batch plus model.uniform_negatives items drawn
    # uniformly from the catalogue per step, Yang et al. 2020).
    negatives: Literal["in_batch", "full", "mixed"] = "in_batch"
    uniform_negatives: PositiveInt = 1024

    @model_validator(mode="after")
    def _tower_shape(self) -> ModelConfig:
        if self.hidden and self.hidden[-1] != self.dim:
            raise ValueError(f"hidden: last size {self.hidden[-1]} must equal dim {self.dim}")
        if not self.hidden and (self.features != "ids" or self.field_dim != self.dim):
            raise ValueError(
                "hidden: [] (no MLP) needs features = 'ids' and field_dim = dim "
                f"(got features = {self.features!r}, field_dim {self.field_dim}, dim {self.dim})"
            )
        return self

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, name: str) -> str:
        # Imported here: models.kinds imports torch, which a config check should not wait for.
        from models.kinds import KIND_NAMES

        return _one_of(name, KIND_NAMES, "model kind")


class SslConfig(Section):
    # none = plain two-tower; fd = feature dropout on the main task, no SSL loss;
    # so = spread-out (SSL loss on un-augmented items); rfm / cfm = the paper's augmentations.
    mode: Literal["none", "fd", "so", "rfm", "cfm"] = "none"
    alpha: float = Field(0.3, ge=0.0)
    temperature: float = Field(0.07, gt=0.0)
    dropout_rate: float = Field(0.3, ge=0.0, lt=1.0)  # dr; 1 would drop every feature
    batch_size: PositiveInt = 512
    cfm_group: Literal["paper", "half"] = "paper"


class MirecConfig(Section):
    lambda_: float = Field(1.0, ge=0.0, alias="lambda")  # weight of the recommendation loss L_g
    local_steps: int = Field(1, ge=0)  # 0: no local steps on θ alone (an ablation)
    few_shot_init: Literal["many_shot", "random"] = "many_shot"
    curriculum: Literal["ltcur", "head2tail", "tail2head"] = "ltcur"
    meta: Literal["residual", "identity"] = "residual"
    mse: bool = True
    meta_hidden: PositiveInt | None = None  # None: d
    # None: train.epochs; 0 skips the phase (the ablations of configs/experiments/mirec_*.toml).
    many_shot_epochs: int | None = Field(None, ge=0)
    few_shot_epochs: int | None = Field(None, ge=0)
    # Serving blend weight of the many-shot score (tuned on validation).
    lambda_p: float = Field(0.5, ge=0.0, le=1.0)
    tune_lambda_p: bool = True
    # How the sweep picks λ_p: "overall" = best validation NDCG@50; "tail_at_budget" = best tail
    # validation HR@50 among the λ_p whose overall validation NDCG@50 is within a relative
    # lambda_p_epsilon of the best.
    lambda_p_rule: Literal["overall", "tail_at_budget"] = "overall"
    lambda_p_epsilon: float = Field(0.01, ge=0.0, le=1.0)
    many_shot_logq: bool = True  # phase 1 uses logQ correction (the paper's many-shot model)
    few_shot_logq: bool = False  # [ours] Ω(k) is already rebalanced, so phase 2 does not
    # Training pairs sampled to record per-slice train loss.
    loss_curve_sample: PositiveInt = 20000

    model_config = ConfigDict(
        extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True
    )


class TrainConfig(Section):
    epochs: PositiveInt = 20
    batch_size: PositiveInt = 1024
    lr: float = Field(1e-3, gt=0.0)
    weight_decay: float = Field(0.0, ge=0.0)
    optimizer: Literal["adam", "adagrad", "sgd"] = "adam"
    seed: Seed = 0
    device: Literal["cpu", "cuda"] = "cpu"
    patience: PositiveInt = 3  # early stopping on validation NDCG@50
    # Per-run wall-clock budget of the training loop (seconds; None: unbounded). Training stops
    # after the epoch that crosses it and keeps the best epoch so far.
    time_budget_s: float | None = Field(None, gt=0)
    threads: PositiveInt | None = None  # torch intra-op threads; None: all cores
    # "bf16": each step's forward and loss run under torch.autocast (matmuls in bfloat16 with
    # float32 accumulation; weights, gradients' accumulation, Adam state and evaluation stay
    # float32). Why: the full softmax's three [B, N, d] matmuls are the whole ML-1M step, and on
    # a CPU with AVX512-BF16 (AMD EPYC here) they ran 4.2x faster (B 2048, N 3,706, d 128: 118 ->
    # 28 ms forward + backward, one thread). Without such hardware bf16 is emulated and slower.
    precision: Literal["fp32", "bf16"] = "fp32"
    progress: bool = True


class EvalConfig(Section):
    ks: list[PositiveInt] = Field(default_factory=lambda: list(DEFAULT_KS), min_length=1)
    batch_size: PositiveInt = 256
    # Validation (early stopping, the λ_p sweep) ranks at most this many users: one fixed sample
    # per run, drawn with train.seed, so every epoch is judged on the same users. None: all of
    # them. Test always ranks every user. Why: a full ranking pass costs users × items; at 1M
    # items and 50k users it took 12 minutes, most of a training run.
    valid_users: PositiveInt | None = None

    @field_validator("ks")
    @classmethod
    def _ks(cls, ks: list[int]) -> list[int]:
        if len(set(ks)) != len(ks):
            raise ValueError(f"cut-offs must be distinct; got {ks}")
        if SELECTION_K not in ks:
            raise ValueError(
                f"must include {SELECTION_K}: early stopping and the λ_p sweep select on "
                f"validation NDCG@{SELECTION_K}; got {ks}"
            )
        return ks


class RunConfig(Section):
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


def validation_problems(e: ValidationError) -> str:
    """pydantic's errors as ``dotted.field: why; ...`` (the field as written in the file)."""
    return "; ".join(
        f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {_why(err['msg'])}"
        for err in e.errors()
    )


def _why(msg: str) -> str:
    # A validator's own ValueError arrives as "Value error, <text>": keep only the text.
    return msg.removeprefix("Value error, ")


def config_from_dict(raw: dict[str, Any], source: str = "<dict>") -> RunConfig:
    """``raw`` validated; a bad value raises ConfigError ``<source>: <dotted.field>: <why>``."""
    try:
        return RunConfig.model_validate(raw)
    except ValidationError as e:
        raise ConfigError(f"{source}: {validation_problems(e)}") from None


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> RunConfig:
    """Load a TOML config (or the defaults when ``path`` is None) and apply overrides."""
    raw = read_toml(path, ConfigError) if path is not None else {}
    # The defaults are valid, so without a file a bad value can only come from an override.
    source = str(path) if path is not None else "--set"
    if path is not None and overrides:
        source += " with --set"
    return config_from_dict(apply_overrides(raw, overrides or []), source)
