"""``model.features = "ids"``: the dataset seen through its id fields only.

The two-tower trainer with ``user_id`` / ``item_id`` as the only fields is a matrix factorisation
(one embedding per user and per item, a linear layer on top), trained, exported, evaluated and
bundled by the same code as every other variant, so it is a reference run through the same
pipeline. The split, head/tail and fingerprint are unchanged: only the feature tables shrink.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from models.feature_table import FeatureTable
from training.protocol.prepared import Prepared

ID_FIELDS = ("user_id", "item_id")


def with_features(p: Prepared, features: Literal["all", "ids"]) -> Prepared:
    """``p`` itself for "all"; for "ids" a copy whose feature tables hold only the id fields."""
    if features == "all":
        return p
    ds = p.dataset
    users = FeatureTable((ds.user_features[ID_FIELDS[0]],))
    items = FeatureTable((ds.item_features[ID_FIELDS[1]],))
    return replace(p, dataset=replace(ds, user_features=users, item_features=items))
