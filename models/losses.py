"""Training losses, as pure functions of embeddings (the trainers own the models and loops)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def _check_pair(name: str, a: Tensor, b: Tensor) -> None:
    if a.dim() != 2 or b.dim() != 2 or a.shape != b.shape:
        raise ValueError(
            f"{name}: expected two [B, d] tensors of equal shape, got "
            f"{tuple(a.shape)} and {tuple(b.shape)}"
        )


def batch_softmax_logits(
    user_emb: Tensor,
    item_emb: Tensor,
    item_ids: Tensor,
    *,
    temperature: float = 1.0,
    log_q: Tensor | None = None,
    logq_weight: float = 1.0,
    mask_accidental_hits: bool = True,
) -> Tensor:
    """The ``[B, B]`` logits of the in-batch softmax, corrected and masked (row i = user i, column
    j = item j of the batch; the positive of row i is column i).

    * logQ: column j minus ``logq_weight * log_q[j]``, ``log_q[j]`` = log of item j's share of
      training interactions (Yi et al. 2019), so popular items are not over-penalised as negatives.
    * accidental hits: an off-diagonal column j whose item equals row i's positive is set to the
      dtype's most negative value (it is the same item, not a negative).
    """
    _check_pair("batch_softmax_loss", user_emb, item_emb)
    b = user_emb.shape[0]
    if item_ids.shape != (b,):
        raise ValueError(
            f"batch_softmax_loss: item_ids must be [B={b}], got {tuple(item_ids.shape)}"
        )
    if log_q is not None and log_q.shape != (b,):
        raise ValueError(f"batch_softmax_loss: log_q must be [B={b}], got {tuple(log_q.shape)}")
    return _candidate_logits(
        user_emb,
        item_emb,
        item_ids,
        item_ids,
        temperature=temperature,
        log_correction=None if log_q is None else logq_weight * log_q,
        mask_accidental_hits=mask_accidental_hits,
    )


def _candidate_logits(
    user_emb: Tensor,
    cand_emb: Tensor,
    item_ids: Tensor,
    cand_ids: Tensor,
    *,
    temperature: float,
    log_correction: Tensor | None,
    mask_accidental_hits: bool,
) -> Tensor:
    """``[B, C]`` logits of B users against C candidates whose first B are the batch's positives
    (row i's positive is column i): ``u @ c.T / temperature``, minus ``log_correction`` (``[C]``,
    per column) when given, and every off-diagonal column holding row i's own positive item set
    to the dtype's most negative value (an accidental hit: the same item, not a negative)."""
    logits = (user_emb @ cand_emb.T) / temperature  # [B, C]
    if log_correction is not None:
        logits = logits - log_correction.to(logits.dtype).unsqueeze(0)
    if mask_accidental_hits:
        b = user_emb.shape[0]
        same = item_ids.unsqueeze(1) == cand_ids.unsqueeze(0)  # [B, C]
        same[:, :b].fill_diagonal_(False)
        logits = logits.masked_fill(same, torch.finfo(logits.dtype).min)
    return logits


def batch_softmax_loss_per_row(
    user_emb: Tensor,
    item_emb: Tensor,
    item_ids: Tensor,
    *,
    temperature: float = 1.0,
    log_q: Tensor | None = None,
    logq_weight: float = 1.0,
    mask_accidental_hits: bool = True,
) -> Tensor:
    """Unreduced in-batch softmax cross-entropy, ``[B]`` (row i's loss: -log softmax_i(row i))."""
    logits = batch_softmax_logits(
        user_emb,
        item_emb,
        item_ids,
        temperature=temperature,
        log_q=log_q,
        logq_weight=logq_weight,
        mask_accidental_hits=mask_accidental_hits,
    )
    target = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, target, reduction="none")


def batch_softmax_loss(
    user_emb: Tensor,
    item_emb: Tensor,
    item_ids: Tensor,
    *,
    temperature: float = 1.0,
    log_q: Tensor | None = None,
    logq_weight: float = 1.0,
    mask_accidental_hits: bool = True,
) -> Tensor:
    """Mean over the batch of :func:`batch_softmax_loss_per_row` (a scalar).

    ``user_emb``/``item_emb``: ``[B, d]`` (pair i is a positive); ``item_ids``: int64 ``[B]``;
    ``log_q``: ``[B]`` log sampling probability of each batch item, or None (no correction).
    """
    return batch_softmax_loss_per_row(
        user_emb,
        item_emb,
        item_ids,
        temperature=temperature,
        log_q=log_q,
        logq_weight=logq_weight,
        mask_accidental_hits=mask_accidental_hits,
    ).mean()


def info_nce_loss(z1: Tensor, z2: Tensor, temperature: float) -> Tensor:
    """SSL's L_self: one-directional InfoNCE with cosine similarity.

    ``L = -(1/N) sum_i log( exp(s(z1_i, z2_i)/tau) / sum_j exp(s(z1_i, z2_j)/tau) )`` for
    ``z1, z2 [N, d]`` (two augmented views of the same N items), ``s`` = cosine similarity.
    """
    _check_pair("info_nce_loss", z1, z2)
    if temperature <= 0:
        raise ValueError(f"info_nce_loss: temperature must be > 0, got {temperature}")
    logits = (F.normalize(z1, dim=-1) @ F.normalize(z2, dim=-1).T) / temperature  # [N, N]
    target = torch.arange(logits.shape[0], device=logits.device)
    return F.cross_entropy(logits, target)


def embedding_mse_loss(pred: Tensor, target: Tensor) -> Tensor:
    """MIRec's ``||F(theta) - theta*||^2``: squared L2 distance per row (summed over the d
    dimensions), averaged over the B rows. ``pred``, ``target``: ``[B, d]``; returns a scalar."""
    _check_pair("embedding_mse_loss", pred, target)
    return (pred - target).pow(2).sum(dim=1).mean()


def full_softmax_loss(
    user_emb: Tensor, all_item_emb: Tensor, item_ids: Tensor, *, temperature: float = 1.0
) -> Tensor:
    """Exact softmax cross-entropy over the whole catalogue (no sampling, hence no logQ).

    ``user_emb [B, d]``, ``all_item_emb [N, d]`` (row j = item j), ``item_ids`` int64 ``[B]`` the
    positives: ``mean_i -log softmax(u_i V^T / tau)[item_ids[i]]``.
    """
    if user_emb.dim() != 2 or all_item_emb.dim() != 2 or user_emb.shape[1] != all_item_emb.shape[1]:
        raise ValueError(
            f"full_softmax_loss: expected [B, d] and [N, d], got {tuple(user_emb.shape)} and "
            f"{tuple(all_item_emb.shape)}"
        )
    logits = (user_emb @ all_item_emb.T) / temperature  # [B, N]
    return F.cross_entropy(logits, item_ids)


def mixed_softmax_loss(
    user_emb: Tensor,
    item_emb: Tensor,
    item_ids: Tensor,
    uniform_emb: Tensor,
    uniform_ids: Tensor,
    n_items: int,
    *,
    temperature: float = 1.0,
    item_share: Tensor | None = None,
    logq_weight: float = 1.0,
) -> Tensor:
    """Mixed negative sampling: the in-batch softmax with M uniformly drawn extra candidates.

    Columns are the B batch items then the M uniform items, ``[B, B + M]``. With ``item_share``
    (float ``[n_items]``, each item's share of training interactions) every column j is corrected
    by ``logq_weight * log(B * share_j + M / n_items)``: the expected number of times item j is a
    candidate under the mixture of the two samplers. Columns holding the row's own positive item
    (other than the diagonal) are masked as accidental hits.
    """
    _check_pair("mixed_softmax_loss", user_emb, item_emb)
    b, m = user_emb.shape[0], uniform_emb.shape[0]
    cand_ids = torch.cat([item_ids, uniform_ids])  # [B + M]
    correction = None
    if item_share is not None:
        expected = b * item_share[cand_ids] + m / n_items  # [B + M]
        correction = logq_weight * torch.log(expected)
    logits = _candidate_logits(
        user_emb,
        torch.cat([item_emb, uniform_emb]),
        item_ids,
        cand_ids,
        temperature=temperature,
        log_correction=correction,
        mask_accidental_hits=True,
    )
    return F.cross_entropy(logits, torch.arange(b, device=logits.device))
