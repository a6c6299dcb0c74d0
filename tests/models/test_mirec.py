from __future__ import annotations

import pytest
import torch

from models.feature_batch import TensorTable
from models.feature_table import FeatureTable
from models.meta import MetaLearner
from models.mirec import MIRec
from models.spec import TowerSpec, field_specs


def test_identity_meta_has_no_parameters() -> None:
    f = MetaLearner(4, kind="identity")
    assert list(f.parameters()) == []
    e = torch.randn(3, 4)
    assert torch.equal(f(e), e)
    with pytest.raises(ValueError, match="kind"):
        MetaLearner(4, kind="mlp")  # type: ignore[arg-type]


def test_residual_meta_starts_as_identity_then_adds_mlp() -> None:
    f = MetaLearner(2, hidden=3)
    e = torch.tensor([[1.0, -2.0], [0.5, 0.5]])
    torch.testing.assert_close(f(e), e)  # zero-initialised output layer
    assert f.mlp is not None
    with torch.no_grad():
        f.mlp[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
        f.mlp[0].bias.zero_()
        f.mlp[2].weight.copy_(torch.tensor([[1.0, 0.0, 1.0], [0.0, 2.0, 0.0]]))
        f.mlp[2].bias.copy_(torch.tensor([0.5, 0.0]))
    # row [1, -2]: hidden relu([1, -2, -1]) = [1, 0, 0] -> out [1, 0] + b -> e + [1.5, 0]
    # row [.5, .5]: hidden [.5, .5, 1] -> out [.5 + 1, 1] + b = [2, 1] -> e + [2, 1]
    torch.testing.assert_close(f(e), torch.tensor([[2.5, -2.0], [2.5, 1.5]]))
    assert MetaLearner(4).hidden == 4


@pytest.mark.parametrize("normalize", [False, True])
def test_blend_identity(
    user_table: FeatureTable, item_table: FeatureTable, normalize: bool
) -> None:
    torch.manual_seed(0)
    spec = TowerSpec(dim=4, hidden=(8, 4), field_dim=3, normalize=normalize, temperature=0.1)
    model = MIRec(field_specs(user_table), field_specs(item_table), spec, meta_hidden=5)
    # make F non-trivial so the identity is not tested on F = id only
    for p in model.f_item.parameters():
        torch.nn.init.normal_(p)
    users = TensorTable.from_table(user_table).all_rows()
    items = TensorTable.from_table(item_table).all_rows()
    index = model.item_index_vectors(items)
    assert index.shape == (5, 8) and model.index_dim == 8
    for lam in (0.0, 0.3, 0.5, 1.0):
        q = model.query_vectors(users, lam)
        assert q.shape == (4, 8)
        torch.testing.assert_close(q @ index.T, model.blend_scores(users, items, lam))
    per_user = torch.tensor([0.0, 0.25, 0.75, 1.0])
    torch.testing.assert_close(
        model.query_vectors(users, per_user) @ index.T, model.blend_scores(users, items, per_user)
    )
    # lambda_p = 1 is the many-shot model alone
    u = model.many_shot.user_embed(users)
    v = model.many_shot.item_embed(items)
    torch.testing.assert_close(model.blend_scores(users, items, 1.0), u @ v.T)
    with pytest.raises(ValueError, match="lambda_p"):
        model.query_vectors(users, torch.zeros(3))
