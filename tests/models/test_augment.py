from __future__ import annotations

import numpy as np
import pytest
import torch

from models.augment import (
    cfm_group,
    cfm_group_size,
    cfm_masks,
    feature_dropout_mask,
    rfm_masks,
    value_dropout,
)
from models.feature_batch import FeatureBatch, FieldBatch
from models.feature_input import FeatureInput
from models.spec import FieldSpec


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _random_batch(n_rows: int, seed: int = 0) -> FeatureBatch:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(0, 6, n_rows)
    offsets = np.concatenate([[0], np.cumsum(lengths)])
    values = rng.integers(1, 30, int(offsets[-1]))
    return {
        "id": FieldBatch(torch.arange(1, n_rows + 1), torch.arange(n_rows + 1)),
        "tags": FieldBatch(torch.as_tensor(values), torch.as_tensor(offsets)),
    }


def _rows(fb: FieldBatch) -> list[list[int]]:
    return [fb.values[fb.offsets[b] : fb.offsets[b + 1]].tolist() for b in range(fb.batch_size)]


def _is_subsequence(sub: list[int], full: list[int]) -> bool:
    it = iter(full)
    return all(x in it for x in sub)


def test_value_dropout_keeps_order_and_rows() -> None:
    batch = _random_batch(2000)
    out = value_dropout(batch, 0.3, _gen(), multi_fields={"tags"})
    assert out["id"] is batch["id"]  # single-valued field untouched
    before, after = _rows(batch["tags"]), _rows(out["tags"])
    assert len(after) == len(before)
    assert all(_is_subsequence(a, b) for a, b in zip(after, before, strict=True))
    kept = out["tags"].values.numel() / batch["tags"].values.numel()
    assert 0.65 < kept < 0.75  # ~ 1 - 0.3 over ~5000 values
    again = value_dropout(batch, 0.3, _gen(), multi_fields={"tags"})
    assert torch.equal(again["tags"].values, out["tags"].values)
    assert torch.equal(again["tags"].offsets, out["tags"].offsets)


def test_value_dropout_rates_zero_and_one() -> None:
    batch = _random_batch(50)
    same = value_dropout(batch, 0.0, _gen(), multi_fields={"tags"})
    assert _rows(same["tags"]) == _rows(batch["tags"])
    gone = value_dropout(batch, 1.0, _gen(), multi_fields={"tags"})
    assert gone["tags"].values.numel() == 0 and gone["tags"].offsets.tolist() == [0] * 51
    with pytest.raises(ValueError, match="rate"):
        value_dropout(batch, 1.5, _gen(), multi_fields={"tags"})
    with pytest.raises(KeyError, match="genres"):
        value_dropout(batch, 0.3, _gen(), multi_fields={"genres"})


def test_emptied_rows_use_the_default_embedding() -> None:
    torch.manual_seed(0)
    batch = _random_batch(300)
    fi = FeatureInput((FieldSpec("id", 301, False), FieldSpec("tags", 30, True)), field_dim=4)
    out_batch = value_dropout(batch, 0.6, _gen(1), multi_fields={"tags"})
    had = batch["tags"].lengths > 0
    emptied = had & (out_batch["tags"].lengths == 0)
    assert emptied.sum() > 10  # the draw empties some non-empty rows
    emb = fi(out_batch).reshape(300, 2, 4)
    torch.testing.assert_close(emb[emptied, 1], fi.default[1].expand(int(emptied.sum()), 4))
    still = out_batch["tags"].lengths > 0
    # rows that kept values are a real mean, not the default
    assert not torch.isclose(emb[still, 1], fi.default[1]).all(dim=1).any()


def test_rfm_masks_complementary_and_balanced() -> None:
    g = _gen()
    seen = torch.zeros(5, dtype=torch.int64)
    for _ in range(200):
        m1, m2 = rfm_masks(5, g)
        assert m1.dtype == torch.bool and m1.shape == (5,)
        assert torch.equal(m1, ~m2)
        assert int(m1.sum()) == 2 and int(m2.sum()) == 3
        seen += m1.long()
    assert (seen > 0).all() and (seen < 200).all()  # every field lands on both sides
    for n in (2, 3):
        m1, m2 = rfm_masks(n, g)
        assert m1.any() and m2.any()


def test_cfm_group_sizes() -> None:
    # paper: 1 + floor(F/2), capped at F-1; half: floor(F/2), at least 1
    assert [cfm_group_size(f, "paper") for f in (1, 2, 3, 4, 5, 8)] == [1, 1, 2, 3, 3, 5]
    assert [cfm_group_size(f, "half") for f in (1, 2, 3, 4, 5, 8)] == [1, 1, 1, 2, 2, 4]
    with pytest.raises(ValueError, match="group"):
        cfm_group_size(4, "third")  # type: ignore[arg-type]


def test_cfm_group_picks_most_correlated() -> None:
    mi = np.array(
        [
            [0.0, 0.9, 0.1, 0.2, 0.0],
            [0.9, 0.0, 0.3, 0.1, 0.0],
            [0.1, 0.3, 0.0, 0.5, 0.4],
            [0.2, 0.1, 0.5, 0.0, 0.0],
            [0.0, 0.0, 0.4, 0.0, 0.0],
        ]
    )
    # F = 5: paper masks 3 = seed + 2 most correlated; half masks 2
    assert cfm_group(mi, 0, "paper").tolist() == [0, 1, 3]
    assert cfm_group(mi, 2, "paper").tolist() == [2, 3, 4]
    assert cfm_group(mi, 0, "half").tolist() == [0, 1]
    assert cfm_group(mi, 4, "half").tolist() == [2, 4]


def test_cfm_masks_complementary_and_seeded() -> None:
    mi = torch.rand(4, 4, generator=_gen(3))
    mi = (mi + mi.T) / 2
    for group in ("paper", "half"):
        g = _gen()
        draws = [cfm_masks(mi, group, g) for _ in range(50)]  # type: ignore[arg-type]
        for m1, m2 in draws:
            assert torch.equal(m1, ~m2)
            assert int(m1.sum()) == cfm_group_size(4, group)  # type: ignore[arg-type]
        g2 = _gen()
        again = [cfm_masks(mi.numpy(), group, g2) for _ in range(50)]  # type: ignore[arg-type]
        assert all(torch.equal(a[0], b[0]) for a, b in zip(draws, again, strict=True))
    with pytest.raises(ValueError, match="square"):
        cfm_masks(np.zeros((2, 3)), "paper", _gen())


def test_feature_dropout_mask() -> None:
    m = feature_dropout_mask(4000, 5, 0.3, _gen())
    assert m.shape == (4000, 5) and m.dtype == torch.bool
    assert 0.28 < m.float().mean().item() < 0.32
    assert not feature_dropout_mask(10, 5, 0.0, _gen()).any()
    assert feature_dropout_mask(10, 5, 1.0, _gen()).all()
