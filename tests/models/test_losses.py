from __future__ import annotations

import math

import pytest
import torch

from models.losses import (
    batch_softmax_loss,
    batch_softmax_loss_per_row,
    embedding_mse_loss,
    info_nce_loss,
)

E = math.e
U = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
V = torch.tensor([[1.0, 0.0], [1.0, 1.0]])
IDS = torch.tensor([10, 11])


def test_batch_softmax_hand_computed() -> None:
    # logits = U @ V.T = [[1, 1], [0, 1]]; row 0 target col 0: -log(e/(e+e)) = log 2;
    # row 1 target col 1: -log(e/(1+e)) = log(1 + 1/e)
    rows = batch_softmax_loss_per_row(U, V, IDS)
    torch.testing.assert_close(rows, torch.tensor([math.log(2), math.log(1 + 1 / E)]))
    torch.testing.assert_close(
        batch_softmax_loss(U, V, IDS), torch.tensor((math.log(2) + math.log(1 + 1 / E)) / 2)
    )
    # temperature 0.5 doubles the logits: [[2, 2], [0, 2]] -> log 2, log(1 + e^-2)
    torch.testing.assert_close(
        batch_softmax_loss_per_row(U, V, IDS, temperature=0.5),
        torch.tensor([math.log(2), math.log(1 + E**-2)]),
    )


def test_logq_correction_shifts_columns() -> None:
    # log_q = [log 1/2, log 1/4]: column 0 gains log 2, column 1 gains log 4.
    # row 0: [1 + log2, 1 + log4] -> -log(2e / (2e + 4e)) = log 3
    # row 1: [log2, 1 + log4]     -> -log(4e / (2 + 4e)) = log(1 + 1/(2e))
    log_q = torch.log(torch.tensor([0.5, 0.25]))
    rows = batch_softmax_loss_per_row(U, V, IDS, log_q=log_q)
    torch.testing.assert_close(rows, torch.tensor([math.log(3), math.log(1 + 1 / (2 * E))]))
    # logq_weight 0 is no correction at all
    torch.testing.assert_close(
        batch_softmax_loss_per_row(U, V, IDS, log_q=log_q, logq_weight=0.0),
        batch_softmax_loss_per_row(U, V, IDS),
    )


def test_accidental_hits_masked() -> None:
    u = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    ids = torch.tensor([7, 7, 9])  # rows 0 and 1 share their positive item
    # logits = [[1, 0, 0], [0, 1, 0], [1, 1, 0]]
    unmasked = torch.tensor([math.log(1 + 2 / E), math.log(1 + 2 / E), math.log(2 * E + 1)])
    torch.testing.assert_close(
        batch_softmax_loss_per_row(u, v, ids, mask_accidental_hits=False), unmasked
    )
    # masking drops column 1 from row 0 and column 0 from row 1: log(1 + 1/e); row 2 unchanged
    masked = torch.tensor([math.log(1 + 1 / E), math.log(1 + 1 / E), math.log(2 * E + 1)])
    rows = batch_softmax_loss_per_row(u, v, ids)
    torch.testing.assert_close(rows, masked)
    assert torch.isfinite(rows).all()


def test_masked_loss_has_finite_gradients() -> None:
    u = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    v = torch.tensor([[1.0, 0.0], [0.0, 1.0]], requires_grad=True)
    batch_softmax_loss(u, v, torch.tensor([3, 3])).backward()
    assert u.grad is not None and torch.isfinite(u.grad).all()
    # both rows' only negative is masked: the loss is 0 and so is every gradient
    torch.testing.assert_close(u.grad, torch.zeros(2, 2))


def test_info_nce_hand_computed() -> None:
    z1 = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    z2 = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    # cosines [[1, 1/sqrt2], [0, 1/sqrt2]], / tau=0.5 -> [[2, sqrt2], [0, sqrt2]]
    r2 = math.sqrt(2)
    expected = (math.log(1 + math.exp(r2 - 2)) + math.log(1 + math.exp(-r2))) / 2
    torch.testing.assert_close(info_nce_loss(z1, z2, 0.5), torch.tensor(expected))
    with pytest.raises(ValueError, match="temperature"):
        info_nce_loss(z1, z2, 0.0)


def test_embedding_mse() -> None:
    pred = torch.tensor([[1.0, 2.0], [0.0, 0.0]])
    target = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    # squared distances 1+4 = 5 and 9+16 = 25, mean 15
    torch.testing.assert_close(embedding_mse_loss(pred, target), torch.tensor(15.0))
    with pytest.raises(ValueError, match="embedding_mse_loss"):
        embedding_mse_loss(pred, target[:1])


def test_shape_errors() -> None:
    with pytest.raises(ValueError, match="item_ids"):
        batch_softmax_loss(U, V, torch.tensor([1, 2, 3]))
    with pytest.raises(ValueError, match="log_q"):
        batch_softmax_loss(U, V, IDS, log_q=torch.zeros(3))
