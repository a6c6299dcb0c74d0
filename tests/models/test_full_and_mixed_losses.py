"""The full-softmax and mixed-negative losses against cross-entropies written out directly."""

from __future__ import annotations

import math

import torch

from models.losses import full_softmax_loss, mixed_softmax_loss


def test_full_softmax_equals_cross_entropy_over_all_items() -> None:
    g = torch.Generator().manual_seed(0)
    u = torch.randn(5, 4, generator=g, dtype=torch.float64)
    items = torch.randn(7, 4, generator=g, dtype=torch.float64)
    pos = torch.tensor([0, 3, 3, 6, 2])
    tau = 0.5
    direct = 0.0
    for i in range(5):
        logits = [float(u[i] @ items[j]) / tau for j in range(7)]
        lse = math.log(sum(math.exp(z) for z in logits))
        direct += lse - logits[int(pos[i])]
    got = full_softmax_loss(u, items, pos, temperature=tau)
    assert abs(float(got) - direct / 5) < 1e-10


def test_mixed_softmax_by_hand() -> None:
    # B = 2 batch items (ids 0, 1), M = 1 uniform item (id 1: an accidental hit for row 1),
    # n_items = 4, shares q = [0.5, 0.25, 0.25, 0], scores u_i · v_j given directly.
    u = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    v = torch.tensor([[2.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    extra = torch.tensor([[1.0, 3.0]], dtype=torch.float64)
    ids, extra_ids = torch.tensor([0, 1]), torch.tensor([1])
    q = torch.tensor([0.5, 0.25, 0.25, 0.0], dtype=torch.float64)
    got = mixed_softmax_loss(u, v, ids, extra, extra_ids, 4, item_share=q)
    # Corrections log(B·q_j + M/N): item 0 -> log(1.25), item 1 -> log(0.75) (both columns).
    c0, c1 = math.log(1.25), math.log(0.75)
    row0 = [2.0 - c0, 0.0 - c1, 1.0 - c1]  # the extra column is item 1: a negative for row 0
    row1 = [0.0 - c0, 1.0 - c1]  # the extra column repeats row 1's positive: masked
    ce0 = math.log(sum(math.exp(z) for z in row0)) - row0[0]
    ce1 = math.log(sum(math.exp(z) for z in row1)) - row1[1]
    assert abs(float(got) - (ce0 + ce1) / 2) < 1e-10
    # Without logQ: plain logits, same masking.
    plain = mixed_softmax_loss(u, v, ids, extra, extra_ids, 4)
    r0, r1 = [2.0, 0.0, 1.0], [0.0, 1.0]
    want = (
        math.log(sum(math.exp(z) for z in r0)) - 2.0 + math.log(sum(math.exp(z) for z in r1)) - 1.0
    ) / 2
    assert abs(float(plain) - want) < 1e-10
