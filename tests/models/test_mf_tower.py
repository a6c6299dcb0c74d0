"""The ids-only matrix-factorisation tower: no MLP, small-scale id embeddings (issue 10)."""

from __future__ import annotations

import pytest
import torch

from models.feature_batch import FieldBatch
from models.feature_input import FeatureInput
from models.spec import FieldSpec, TowerSpec
from models.tower import Tower
from models.two_tower import TwoTower

ID = (FieldSpec("user_id", 50, False),)


def test_a_tower_without_hidden_layers_is_its_id_embedding() -> None:
    torch.manual_seed(0)
    tower = Tower(ID, TowerSpec(dim=8, hidden=(), field_dim=8))
    rows = torch.tensor([3, 7, 3])
    out = tower({"user_id": FieldBatch(rows, torch.arange(4))})  # [3, 8]
    torch.testing.assert_close(out, tower.input.bags["user_id"].weight[rows])
    assert sum(p.numel() for p in tower.mlp.parameters()) == 0


def test_a_tower_without_hidden_layers_needs_fields_times_field_dim_equal_to_dim() -> None:
    two = (*ID, FieldSpec("age", 5, False))
    with pytest.raises(ValueError, match=r"2 field\(s\) x field_dim 8 = 16 values, not dim 8"):
        Tower(two, TowerSpec(dim=8, hidden=(), field_dim=8))


def test_init_embeddings_draws_at_the_given_scale_and_keeps_padding_zero() -> None:
    torch.manual_seed(0)
    fi = FeatureInput((FieldSpec("item_id", 4000, False),), field_dim=64)
    fi.init_embeddings(0.01)
    w = fi.bags["item_id"].weight.detach()  # [4000, 64]
    assert torch.all(w[0] == 0)
    assert float(w[1:].std()) == pytest.approx(0.01, rel=0.02)
    assert float(fi.default.detach().std()) == pytest.approx(0.01, rel=0.3)


def test_small_init_starts_the_softmax_near_uniform() -> None:
    # Why the MF recipe sets init_std: at PyTorch's N(0, 1) the initial logits of a 128-wide
    # dot product have std ~ 128**0.5, so the softmax starts far from uniform.
    torch.manual_seed(0)
    spec = TowerSpec(dim=128, hidden=(), field_dim=128)
    model = TwoTower(ID, (FieldSpec("item_id", 300, False),), spec)
    rows = torch.arange(1, 50)
    batch = {"user_id": FieldBatch(rows, torch.arange(50))}
    items = {"item_id": FieldBatch(torch.arange(1, 300), torch.arange(300))}
    with torch.no_grad():
        wide = model.logits(model.user_embed(batch), model.item_embed(items)).std()
    model.init_embeddings(0.01)
    with torch.no_grad():
        small = model.logits(model.user_embed(batch), model.item_embed(items)).std()
    assert float(wide) > 5.0
    assert float(small) < 0.01
