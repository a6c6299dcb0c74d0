from __future__ import annotations

import pytest

from models.feature_table import FeatureTable
from models.spec import FieldSpec, TowerSpec, field_specs


def test_tower_spec_round_trip_and_validation() -> None:
    s = TowerSpec(dim=8, hidden=[16, 8], field_dim=4, normalize=True, temperature=0.1)  # type: ignore[arg-type]
    assert s.hidden == (16, 8)
    assert TowerSpec.from_dict(s.to_dict()) == s
    with pytest.raises(ValueError, match="hidden\\[-1\\]"):
        TowerSpec(dim=8, hidden=(16, 4))
    with pytest.raises(ValueError, match="temperature"):
        TowerSpec(dim=8, hidden=(8,), temperature=0.0)
    with pytest.raises(ValueError, match="unknown key"):
        TowerSpec.from_dict({"dim": 8, "hidden": [8], "depth": 3})


def test_field_specs_follow_table_order(item_table: FeatureTable) -> None:
    specs = field_specs(item_table)
    # vocab sizes include <unk>: 5 ids + 1, 3 genres + 1, 3 years + 1
    assert specs == (
        FieldSpec("item_id", 6, False),
        FieldSpec("genres", 4, True),
        FieldSpec("year", 4, False),
    )
    assert FieldSpec.from_dict(specs[1].to_dict()) == specs[1]
