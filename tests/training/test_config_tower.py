"""Tower shape and embedding init options of the run config (issue 10, the MF recipe)."""

from __future__ import annotations

import re

import pytest

from training.config import ConfigError, load_config


@pytest.mark.parametrize(
    ("overrides", "why"),
    [
        (["model.hidden=[32]"], "model: hidden: last size 32 must equal dim 64"),
        (["model.hidden=[]"], "hidden: [] (no MLP) needs features = 'ids' and field_dim = dim"),
        (
            ["model.hidden=[]", "model.features='ids'"],
            "(got features = 'ids', field_dim 32, dim 64)",
        ),
        (["model.init_std=0"], "model.init_std: Input should be greater than 0"),
    ],
)
def test_tower_shape_and_init_are_checked_at_load(overrides: list[str], why: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(why)):
        load_config(None, overrides)


def test_the_mf_recipe_is_a_valid_config() -> None:
    cfg = load_config(
        None,
        [
            "model.hidden=[]",
            "model.features='ids'",
            "model.dim=128",
            "model.field_dim=128",
            "model.init_std=0.01",
        ],
    )
    assert cfg.model.hidden == [] and cfg.model.init_std == 0.01
