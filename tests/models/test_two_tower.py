from __future__ import annotations

import torch

from models.feature_batch import TensorTable
from models.feature_table import FeatureTable
from models.spec import TowerSpec, field_specs
from models.tower import Tower
from models.two_tower import TwoTower


def test_tower_mlp_layout(item_table: FeatureTable) -> None:
    spec = TowerSpec(dim=4, hidden=(8, 6, 4), field_dim=3)
    tower = Tower(field_specs(item_table), spec)
    kinds = [type(m).__name__ for m in tower.mlp]
    assert kinds == ["Linear", "ReLU", "Linear", "ReLU", "Linear"]
    assert tower.mlp[0].in_features == 3 * 3  # n_fields * field_dim
    batch = TensorTable.from_table(item_table).gather(torch.tensor([0, 3]))
    assert tower(batch).shape == (2, 4)


def test_normalized_logits_divide_by_temperature(
    user_table: FeatureTable, item_table: FeatureTable
) -> None:
    torch.manual_seed(0)
    spec = TowerSpec(dim=4, hidden=(4,), field_dim=2, normalize=True, temperature=0.5)
    model = TwoTower(field_specs(user_table), field_specs(item_table), spec)
    u = model.user_embed(TensorTable.from_table(user_table).all_rows())
    v = model.item_embed(TensorTable.from_table(item_table).all_rows())
    assert u.shape == (4, 4) and v.shape == (5, 4)
    torch.testing.assert_close(u.norm(dim=1), torch.ones(4))
    torch.testing.assert_close(model.logits(u, v), (u @ v.T) * 2.0)

    raw = TwoTower(field_specs(user_table), field_specs(item_table), TowerSpec(4, (4,), 2))
    u2 = raw.user_embed(TensorTable.from_table(user_table).all_rows())
    torch.testing.assert_close(raw.logits(u2, u2), u2 @ u2.T)


def test_item_mask_changes_only_masked_rows(item_table: FeatureTable) -> None:
    torch.manual_seed(0)
    spec = TowerSpec(dim=4, hidden=(4,), field_dim=2)
    model = TwoTower(field_specs(item_table), field_specs(item_table), spec)
    batch = TensorTable.from_table(item_table).all_rows()
    mask = torch.ones(5, 3, dtype=torch.bool)
    mask[1:] = False
    out = model.item_embed(batch, mask)
    plain = model.item_embed(batch)
    torch.testing.assert_close(out[1:], plain[1:])
    # a fully masked row is the MLP of the concatenated default embeddings
    defaults = model.item_tower.input.default.reshape(-1)  # [n_fields * field_dim]
    torch.testing.assert_close(out[0], model.item_tower.mlp(defaults))
