"""Every config option added since the results caches were written is listed in
``training.experiment.ADDED_OPTIONS``, so that a run at the option's default keeps its cached key.
"""

from __future__ import annotations

from typing import Any

from training.config import RunConfig
from training.experiment import ADDED_OPTIONS, run_key

# The options of the run config when the caches under runs/cache/ and docs/results/ were written
# (commit f6ab327); frozen on purpose.
CACHED_OPTIONS = {
    "data.csv.encoding",
    "data.csv.interactions",
    "data.csv.item_col",
    "data.csv.item_features",
    "data.csv.item_key",
    "data.csv.item_multi",
    "data.csv.multi_sep",
    "data.csv.sep",
    "data.csv.timestamp_col",
    "data.csv.user_col",
    "data.csv.user_features",
    "data.csv.user_key",
    "data.csv.user_multi",
    "data.data_dir",
    "data.dataset",
    "data.head_fraction",
    "data.seed",
    "data.synthetic.feature_noise",
    "data.synthetic.interactions_per_user",
    "data.synthetic.latent_dim",
    "data.synthetic.n_items",
    "data.synthetic.n_users",
    "data.synthetic.popularity_exponent",
    "data.synthetic.preset",
    "data.synthetic.with_timestamps",
    "data.train_fraction",
    "eval.batch_size",
    "eval.ks",
    "mirec.curriculum",
    "mirec.few_shot_epochs",
    "mirec.few_shot_init",
    "mirec.few_shot_logq",
    "mirec.lambda",
    "mirec.lambda_p",
    "mirec.local_steps",
    "mirec.loss_curve_sample",
    "mirec.many_shot_epochs",
    "mirec.many_shot_logq",
    "mirec.meta",
    "mirec.meta_hidden",
    "mirec.mse",
    "mirec.tune_lambda_p",
    "model.dim",
    "model.field_dim",
    "model.hidden",
    "model.kind",
    "model.logq",
    "model.logq_weight",
    "model.mask_accidental_hits",
    "model.normalize",
    "model.temperature",
    "ssl.alpha",
    "ssl.batch_size",
    "ssl.cfm_group",
    "ssl.dropout_rate",
    "ssl.mode",
    "ssl.temperature",
    "train.batch_size",
    "train.device",
    "train.epochs",
    "train.lr",
    "train.optimizer",
    "train.patience",
    "train.progress",
    "train.seed",
    "train.threads",
    "train.weight_decay",
}


def _flat(d: dict[str, Any], prefix: str = "") -> set[str]:
    out: set[str] = set()
    for k, v in d.items():
        out |= _flat(v, f"{prefix}{k}.") if isinstance(v, dict) else {prefix + k}
    return out


def test_every_new_option_is_listed_as_added() -> None:
    new = _flat(RunConfig().to_dict()) - CACHED_OPTIONS
    assert new <= set(ADDED_OPTIONS), sorted(new - set(ADDED_OPTIONS))


def test_an_added_option_changes_the_key_only_away_from_its_default() -> None:
    base = RunConfig()
    renamed = base.model_copy(
        update={
            "data": base.data.model_copy(
                update={"csv": base.data.csv.model_copy(update={"name": "mine"})}
            )
        }
    )
    assert run_key(base) != run_key(renamed)
