from __future__ import annotations

import pytest
import torch

from models.feature_batch import FeatureBatch, FieldBatch
from models.feature_input import FeatureInput
from models.spec import FieldSpec

FIELDS = (FieldSpec("id", 4, False), FieldSpec("tags", 5, True))


def _batch() -> FeatureBatch:
    # 3 rows. id: [1], [2], [0 (unknown)]. tags: [1, 3], [], [0, 4] (unknown + known).
    return {
        "id": FieldBatch(torch.tensor([1, 2, 0]), torch.tensor([0, 1, 2, 3])),
        "tags": FieldBatch(torch.tensor([1, 3, 0, 4]), torch.tensor([0, 2, 2, 4])),
    }


def test_pooling_defaults_and_order() -> None:
    torch.manual_seed(0)
    fi = FeatureInput(FIELDS, field_dim=3)
    assert fi.field_names == ("id", "tags")
    out = fi(_batch())
    assert out.shape == (3, 6)
    w_id, w_tags, d = fi.bags["id"].weight, fi.bags["tags"].weight, fi.default
    # row 0: id 1 and the mean of tags 1 and 3
    torch.testing.assert_close(out[0, :3], w_id[1])
    torch.testing.assert_close(out[0, 3:], (w_tags[1] + w_tags[3]) / 2)
    # row 1: id 2; empty tags bag -> the tags default embedding
    torch.testing.assert_close(out[1, :3], w_id[2])
    torch.testing.assert_close(out[1, 3:], d[1])
    # row 2: unknown id -> id default; unknown tag left out of the mean -> tag 4 alone
    torch.testing.assert_close(out[2, :3], d[0])
    torch.testing.assert_close(out[2, 3:], w_tags[4])


def test_masks_use_default() -> None:
    torch.manual_seed(0)
    fi = FeatureInput(FIELDS, field_dim=3)
    plain = fi(_batch())
    # [n_fields] mask: every row's id is the default, tags untouched
    out = fi(_batch(), torch.tensor([True, False]))
    torch.testing.assert_close(out[:, :3], fi.default[0].expand(3, 3))
    torch.testing.assert_close(out[:, 3:], plain[:, 3:])
    # [B, n_fields] mask: only row 0's tags masked
    m = torch.zeros(3, 2, dtype=torch.bool)
    m[0, 1] = True
    out = fi(_batch(), m)
    torch.testing.assert_close(out[0, 3:], fi.default[1])
    torch.testing.assert_close(out[1:], plain[1:])
    torch.testing.assert_close(out[0, :3], plain[0, :3])


def test_default_gets_gradient_only_when_used() -> None:
    fi = FeatureInput(FIELDS, field_dim=3)
    fi(_batch(), torch.tensor([False, False])).sum().backward()
    assert fi.default.grad is not None
    # id default used once (row 2), tags default once (row 1): gradient of a sum is 1 per use
    torch.testing.assert_close(fi.default.grad, torch.ones(2, 3))


def test_bad_input_errors() -> None:
    fi = FeatureInput(FIELDS, field_dim=3)
    with pytest.raises(KeyError, match="tags"):
        fi({"id": _batch()["id"]})
    with pytest.raises(ValueError, match="mask shape"):
        fi(_batch(), torch.zeros(3, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="duplicate"):
        FeatureInput((FieldSpec("a", 2, False), FieldSpec("a", 2, False)), 3)
